"""structlog JSON logging for a service process, with library logs rendered the same way.

Every line carries ``service``; lines written while an event is handled also carry
``event_id``, ``event_type`` and ``correlation_id`` (bound by the consumer). Payloads are
never logged: they may hold patient pseudonyms and amounts that logs have no need for.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

__all__ = ["configure_logging"]

# Chatty at INFO and useful only when debugging the transport.
_QUIET_LIBRARIES = ("aiokafka", "kafka", "faust", "mode", "uvicorn.access", "alembic")


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """Configure structlog and stdlib logging; returns the ``logging.config`` dict applied
    (Faust's worker is given the same dict so it does not install its own handlers)."""

    def add_service(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    numeric = logging.getLevelName(level.upper())
    quiet_level = "DEBUG" if numeric == logging.DEBUG else "WARNING"
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
                "foreign_pre_chain": shared,
            }
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {name: {"level": quiet_level} for name in _QUIET_LIBRARIES},
    }
    logging.config.dictConfig(config)
    return config
