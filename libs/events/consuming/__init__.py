"""Idempotent, transactional consuming with a dead-letter path."""

from libs.events.consuming.batch import BatchProcessor, BatchResult, ProcessingStopped
from libs.events.consuming.handlers import HandlerRegistry
from libs.events.consuming.message import REPLAY_HEADER, ConsumedMessage

__all__ = [
    "REPLAY_HEADER",
    "BatchProcessor",
    "BatchResult",
    "ConsumedMessage",
    "HandlerRegistry",
    "ProcessingStopped",
]
