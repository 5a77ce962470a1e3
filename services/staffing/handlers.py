"""Events the staffing service consumes (none yet: it owns the organisation it publishes)."""

from libs.events.consuming import HandlerRegistry

HANDLERS = HandlerRegistry()
