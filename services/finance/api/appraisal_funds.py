"""Read HTTP for the half-year member appraisal fund (绩效考核): per community, the revision
allocated, its fund and each member's score and amount, and the revisions it reversed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.finance.api.access import CentralReader, FinanceUow
from services.finance.service_layer.appraisal_fund import appraisal_runs, revision_of

router = APIRouter(tags=["settlements and periods"])

HalfYearPath = Annotated[
    str, Path(pattern=r"^[0-9]{4}-H[12]$", description="A half-year: 2026-H1 or 2026-H2")
]


@router.get(
    "/appraisal-funds/{period}",
    summary="The member appraisal fund allocated for a half-year, per community",
)
def appraisal_funds(
    period: HalfYearPath, _: CentralReader, uow: FinanceUow
) -> list[dict[str, Any]]:
    with uow:
        runs = appraisal_runs(uow, period)  # oldest revision first
        by_community: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            by_community.setdefault(run.scope, []).append(
                {
                    "revision": revision_of(run.kind),
                    "allocation_id": run.run_id,
                    "total": run.total,
                    **{k: v for k, v in run.detail.items() if k != "revision"},
                    "allocated_at": run.completed_at,
                }
            )
    return [
        {
            "community_id": community,
            **allocations[-1],
            "reversed_revisions": [a["revision"] for a in allocations[:-1]],
        }
        for community, allocations in sorted(by_community.items())
    ]
