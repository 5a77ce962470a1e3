"""This service's copy of the unified drug catalogue, kept from ``pharmacy.drug`` events, and
the check a downward plan's medications must pass (listed, and stockable at the clinic's tier)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from libs.events.catalogue.pharmacy import DrugDelisted, DrugListed, DrugSnapshot, DrugUpdated
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.repository import ReferralRepository
from services.referral.adapters.schema import FormularyDrug
from services.referral.service_layer.errors import RuleViolation
from services.referral.service_layer.recording import aware

__all__ = ["check_plan_drugs", "record_drug_delisted", "record_drug_listed", "record_drug_updated"]


def _newer(stored: datetime, incoming: datetime) -> bool:
    return incoming >= aware(stored)


def _record_snapshot(data: DrugSnapshot, uow: UnitOfWork) -> None:
    as_of = uow.event.time
    row = uow.session.get(FormularyDrug, data.drug_code)
    if row is None:
        row = FormularyDrug(drug_code=data.drug_code)
        uow.session.add(row)
    elif not _newer(row.as_of, as_of):
        return  # an older snapshot never overwrites a newer one
    row.name = data.name
    row.allowed_tiers = [t.value for t in data.allowed_tiers]
    row.listed = True
    row.as_of = as_of


def record_drug_listed(data: DrugListed, uow: UnitOfWork) -> None:
    _record_snapshot(data, uow)


def record_drug_updated(data: DrugUpdated, uow: UnitOfWork) -> None:
    _record_snapshot(data, uow)


def record_drug_delisted(data: DrugDelisted, uow: UnitOfWork) -> None:
    row = uow.session.get(FormularyDrug, data.drug_code)
    as_of = uow.event.time
    if row is not None and _newer(row.as_of, as_of):
        row.listed, row.as_of = False, as_of


def check_plan_drugs(
    records: ReferralRepository, drug_codes: Sequence[str], clinic_tier: str
) -> None:
    """Every drug of a follow-up plan is on the catalogue and may be stocked by the clinic."""
    for code in drug_codes:
        drug = records.drug(code)
        if drug is None or not drug.listed:
            raise RuleViolation(
                "unknown_drug",
                f"drug {code} is not on the unified catalogue",
                {"field": "follow_up_plan.medications", "drug_code": code},
            )
        if clinic_tier not in drug.allowed_tiers:
            raise RuleViolation(
                "drug_not_allowed",
                f"drug {code} may not be stocked at a {clinic_tier} facility",
                {"field": "follow_up_plan.medications", "drug_code": code},
            )
