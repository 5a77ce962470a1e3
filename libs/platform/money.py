"""Money in the database: one column type for every service.

Amounts are ``Decimal`` yuan: on the wire ``Money``/``Amount`` with two places (fen) and
rounded by ``cents`` (libs/events/payload.py); unit prices carry four. The column stores
them exactly on both databases:
PostgreSQL's ``NUMERIC(p, s)``; SQLite has no exact decimal (a NUMERIC column there is a
binary float and ``SUM()`` adds floats), so there the value is a scaled integer, summed
exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactDecimal", "money_column", "price_column"]


class ExactDecimal(TypeDecorator[Decimal]):
    """``Decimal`` with ``scale`` places: NUMERIC on PostgreSQL, a scaled BIGINT on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 16, scale: int = 2) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = Decimal(value)
        if dialect.name != "sqlite":
            return number
        scaled = number.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value).quantize(Decimal(1).scaleb(-self.scale))


def money_column(precision: int = 16) -> ExactDecimal:
    """An amount in yuan to the fen."""
    return ExactDecimal(precision, 2)


def price_column(precision: int = 14) -> ExactDecimal:
    """A unit price, to four places."""
    return ExactDecimal(precision, 4)
