"""Events the console consumes: ``organisation.*``, its copy of the facilities (the names it
shows instead of codes, and the facilities an account may be given)."""

from libs.directory import register_handlers as register_directory
from libs.events.consuming import HandlerRegistry

HANDLERS = HandlerRegistry()
register_directory(HANDLERS)
