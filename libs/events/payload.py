"""Base class and constrained value types for event payloads.

Producers build payloads with ``extra="forbid"`` so a misspelt field fails loudly at the
source; consumers validate with ``extra="ignore"`` (see :mod:`libs.events.codec`) so a field
added by a newer producer never breaks an older consumer.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "PERIOD_PATTERN",
    "Amount",
    "Code",
    "Count",
    "Date",
    "DiagnosisCode",
    "Identifier",
    "Instant",
    "Money",
    "Name",
    "Payload",
    "Period",
    "Pseudonym",
    "Quantity",
    "Ratio",
    "UnitPrice",
    "cents",
]


class Payload(BaseModel):
    """The ``data`` of one event type. Immutable; unknown fields are refused at the producer."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


#: A stable identifier of an aggregate or a master-data record (facility, drug, referral...).
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$"),
]
#: A short code from a code list (a reason, an account, a county code).
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
]
#: ICD-10 style diagnosis code, e.g. ``I21.9``.
DiagnosisCode = Annotated[
    str,
    StringConstraints(min_length=3, max_length=10, pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"),
]
#: A human-readable name of a facility, drug or member of staff (never of a patient).
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
#: A patient pseudonym: HMAC-SHA256 of the national id under the county secret, hex encoded.
#: The strict shape is a privacy guard: a name or an id number can never pass as a pseudonym.
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: The pattern of a period: a month of the years 2000 to 2099 (no accounting happens in
#: year 0, and the arithmetic on periods must never meet one).
PERIOD_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
#: An accounting period, ``YYYY-MM``.
Period = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]

#: Money in yuan: exact decimal with two places, never a float. Serialised as a JSON string.
Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2, allow_inf_nan=False)]
#: A non-negative amount of money.
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2, allow_inf_nan=False)]
#: A unit price (per pack) with four decimal places, as price lists carry them.
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4, allow_inf_nan=False)]
#: A share between 0 and 1 (a reimbursement ratio, a threshold).
Ratio = Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6, allow_inf_nan=False)]
#: A strictly positive whole number of packs.
Quantity = Annotated[int, Field(gt=0, le=1_000_000)]
#: A count that may be zero.
Count = Annotated[int, Field(ge=0, le=1_000_000)]
#: A point in time with its zone; emitted in UTC.
Instant = AwareDatetime
#: A calendar date (expiry, session date).
Date = date


_CENT = Decimal("0.01")


def cents(value: Decimal | int) -> Decimal:
    """``value`` rounded to the cent, half up (the rounding Chinese accounting uses)."""
    return Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
