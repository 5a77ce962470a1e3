"""Events the gateway consumes: ``organisation.*``, its copy of the facilities (whose tier it
puts on every message, and which it refuses once they have left the community)."""

from libs.directory import register_handlers as register_directory
from libs.events.consuming import HandlerRegistry

HANDLERS = HandlerRegistry()
register_directory(HANDLERS)
