"""Re-order levels set by hand, and where a community's stock of a drug is too much or too
little (余缺调度: shifting surplus to shortage)."""

from __future__ import annotations

from dataclasses import dataclass

from libs.directory import FacilityDirectory
from services.pharmacy.adapters.schema import LevelOverride
from services.pharmacy.service_layer.availability import available_now
from services.pharmacy.service_layer.errors import Invalid
from services.pharmacy.service_layer.formulary import require_drug
from services.pharmacy.service_layer.replenishment import levels_for
from services.pharmacy.service_layer.stock import require_facility
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["Balance", "clear_levels", "community_balance", "set_levels"]


def set_levels(
    uow: PharmacyUnitOfWork,
    facility_id: str,
    drug_code: str,
    reorder_point: int,
    target_level: int,
    set_by: str,
) -> None:
    """Fix the item's levels instead of deriving them from consumption."""
    if not 0 <= reorder_point < target_level:
        raise Invalid("invalid_levels", "need 0 <= reorder_point < target_level")
    with uow:
        require_facility(uow, facility_id)
        require_drug(uow, drug_code)
        row = uow.session.get(LevelOverride, (facility_id, drug_code))
        if row is None:
            row = LevelOverride(facility_id=facility_id, drug_code=drug_code)
            uow.session.add(row)
        row.reorder_point, row.target_level = reorder_point, target_level
        row.set_by, row.set_at = set_by, uow.now()
        uow.commit()


def clear_levels(uow: PharmacyUnitOfWork, facility_id: str, drug_code: str) -> bool:
    """Go back to levels from consumption; false if none were set."""
    with uow:
        row = uow.session.get(LevelOverride, (facility_id, drug_code))
        if row is None:
            return False
        uow.session.delete(row)
        uow.commit()
        return True


@dataclass(frozen=True)
class Balance:
    facility_id: str
    available: int
    reorder_point: int
    target_level: int

    @property
    def surplus(self) -> int:
        """Stock beyond the target that could move to a member in need."""
        return max(0, self.available - self.target_level) if self.target_level else 0

    @property
    def need(self) -> int:
        """What it takes to get back to target, once at or below the re-order point."""
        if self.reorder_point and self.available <= self.reorder_point:
            return self.target_level - self.available
        return 0


def community_balance(uow: PharmacyUnitOfWork, community_id: str, drug_code: str) -> list[Balance]:
    """Each active member's available stock of a drug against its levels."""
    with uow:
        require_drug(uow, drug_code)
        result = []
        for facility in FacilityDirectory(uow.session).all(community_id=community_id):
            if not facility.active:
                continue
            lots = uow.stock.lots(facility.facility_id, [drug_code])[drug_code]
            levels = levels_for(uow, facility.facility_id, drug_code)
            result.append(
                Balance(
                    facility.facility_id,
                    available_now(uow, facility.facility_id, drug_code, lots),
                    levels.reorder_point,
                    levels.target_level,
                )
            )
        return result
