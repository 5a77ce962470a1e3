"""Reading one value of the review rules' YAML, with an error that says where it is.

Every message names the path of the value (``drugs.QSY-W003.contraindicated[0].age_below``)
so whoever edits the county's file can find the line without reading code.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

__all__ = [
    "as_mapping",
    "check_keys",
    "enum_value",
    "optional_text",
    "positive_decimal",
    "whole_number",
]

_Enum = TypeVar("_Enum", bound=StrEnum)


def as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def check_keys(entries: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    """Refuse a key the rules do not know: a typo must not switch a rule off silently."""
    unknown = sorted(str(k) for k in entries if k not in allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed))}"
        )


def enum_value(kind: type[_Enum], value: Any, where: str) -> _Enum:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ValueError(f"{where}: {value!r} is not one of {choices}") from None


def whole_number(value: Any, where: str, *, upper: int) -> int:
    """A whole number from 1 to ``upper`` (YAML's ``true`` is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise ValueError(f"{where} must be a whole number from 1 to {upper}, not {value!r}")
    return value


def positive_decimal(value: Any, where: str) -> Decimal:
    """A number above zero, exact: ``0.67`` in the file is ``Decimal("0.67")``, not a float's
    binary neighbour."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where} must be a number above 0, not {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where} must be a number above 0, not {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{where} must be a number above 0, not {value!r}")
    return number


def optional_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be non-empty text")
    return value.strip()
