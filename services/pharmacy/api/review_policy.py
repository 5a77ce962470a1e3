"""Admin HTTP for pharmacy's copy of the county's review policy: which facility types'
prescriptions wait for the review centre's release before they are dispensed (none until
quality has published one: until then everything is dispensed as it arrives)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.pharmacy.api.deps import PharmacyUow, StockReader

router = APIRouter(prefix="/review-policy", tags=["review policy"])


class ReviewPolicyOut(BaseModel):
    county_code: str
    review_before_dispensing: list[str]


@router.get(
    "",
    summary="The review policy held (前置审方): facility types dispensed only once released",
)
def review_policy(_: StockReader, uow: PharmacyUow) -> list[ReviewPolicyOut]:
    with uow:
        policies = uow.records.review_policies()
    return [
        ReviewPolicyOut(county_code=county, review_before_dispensing=sorted(types))
        for county, types in sorted(policies.items())
    ]
