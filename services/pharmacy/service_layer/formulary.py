"""Use cases of the unified formulary; every change is published on ``pharmacy.drug``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from libs.events.catalogue.pharmacy import DrugDelisted, DrugListed, DrugSnapshot, DrugUpdated
from services.pharmacy.adapters.repository import drug_of, snapshot_of
from services.pharmacy.adapters.schema import DrugRow
from services.pharmacy.domain.formulary import Drug, fingerprint
from services.pharmacy.service_layer.errors import Conflict, Invalid, NotFound
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "delist_drug",
    "drug_of",
    "list_drug",
    "require_drug",
    "snapshot_of",
    "sync_seed",
    "update_drug",
]


def _write(row: DrugRow, snapshot: DrugSnapshot, now: datetime) -> None:
    row.name = snapshot.name
    row.generic_name = snapshot.generic_name
    row.dosage_form = snapshot.dosage_form
    row.strength = snapshot.strength
    row.pack_size = snapshot.pack_size
    row.unit = snapshot.unit
    row.unit_price = snapshot.unit_price
    row.essential = snapshot.essential
    row.tcm = snapshot.tcm
    row.category = snapshot.category.value
    row.allowed_tiers = [t.value for t in snapshot.allowed_tiers]
    row.allowed_facility_types = [t.value for t in snapshot.allowed_facility_types]
    row.updated_at = now


def require_drug(uow: PharmacyUnitOfWork, drug_code: str, *, in_body: bool = False) -> Drug:
    """The drug, or 404 (a path) / 422 (a field of the request) when it is not in the formulary."""
    row = uow.session.get(DrugRow, drug_code)
    if row is None:
        error = Invalid if in_body else NotFound
        raise error("unknown_drug", f"drug {drug_code} is not in the formulary")
    return drug_of(row)


def _list(uow: PharmacyUnitOfWork, snapshot: DrugSnapshot, seed: str | None) -> DrugListed:
    now = uow.now()
    row = uow.session.get(DrugRow, snapshot.drug_code)
    if row is not None and row.listed:
        raise Conflict("already_listed", f"drug {snapshot.drug_code} is already listed")
    if row is None:
        row = DrugRow(drug_code=snapshot.drug_code)
        uow.session.add(row)
    _write(row, snapshot, now)
    row.listed, row.delisted_at, row.delist_reason = True, None, None
    if seed is not None:
        row.seed_fingerprint = seed
    event = DrugListed(**snapshot.model_dump())
    uow.publish(event)
    return event


def list_drug(uow: PharmacyUnitOfWork, snapshot: DrugSnapshot) -> DrugListed:
    """Add a drug to the formulary (or list a delisted one again)."""
    with uow:
        event = _list(uow, snapshot, None)
        uow.commit()
        return event


def update_drug(uow: PharmacyUnitOfWork, snapshot: DrugSnapshot) -> DrugSnapshot:
    """Change a listed drug (price, tiers...); an unchanged entry publishes nothing."""
    with uow:
        row = uow.session.get(DrugRow, snapshot.drug_code)
        if row is None:
            raise NotFound("unknown_drug", f"drug {snapshot.drug_code} is not in the formulary")
        if not row.listed:
            raise Conflict("delisted", f"drug {snapshot.drug_code} is delisted; list it again")
        if snapshot_of(row) == snapshot:
            return snapshot
        _write(row, snapshot, uow.now())
        uow.publish(DrugUpdated(**snapshot.model_dump()))
        uow.commit()
        return snapshot


def delist_drug(uow: PharmacyUnitOfWork, drug_code: str, reason: str) -> DrugDelisted:
    """Take a drug off the formulary: from now on it can be neither received nor dispensed."""
    with uow:
        row = uow.session.get(DrugRow, drug_code)
        if row is None:
            raise NotFound("unknown_drug", f"drug {drug_code} is not in the formulary")
        if not row.listed:
            raise Conflict("delisted", f"drug {drug_code} is already delisted")
        now = uow.now()
        row.listed, row.delisted_at, row.delist_reason, row.updated_at = False, now, reason, now
        event = DrugDelisted(drug_code=drug_code, reason=reason, delisted_at=now)
        uow.publish(event)
        uow.commit()
        return event


def sync_seed(uow: PharmacyUnitOfWork, seed: Iterable[DrugSnapshot]) -> list[str]:
    """Apply the seed formulary: list new drugs, update those whose seed entry changed.

    The admin API is the authority once a drug is listed: an entry changed over HTTP is not
    reverted by a restart, only by editing that entry in the seed file. A drug delisted over
    HTTP stays delisted. Returns the codes published; a second run publishes nothing.
    """
    published: list[str] = []
    with uow:
        now = uow.now()
        for snapshot in seed:
            digest = fingerprint(snapshot)
            row = uow.session.get(DrugRow, snapshot.drug_code)
            if row is None:
                _list(uow, snapshot, digest)
                published.append(snapshot.drug_code)
            elif row.seed_fingerprint != digest:
                row.seed_fingerprint = digest
                if row.listed and snapshot_of(row) != snapshot:
                    _write(row, snapshot, now)
                    uow.publish(DrugUpdated(**snapshot.model_dump()))
                    published.append(snapshot.drug_code)
        uow.commit()
    return published
