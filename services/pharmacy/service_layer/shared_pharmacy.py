"""The shared TCM pharmacy (共享中药房): herbs come from the shared pharmacy's stock, never the
clinic's.

A member clinic's herbal prescription sent to the shared pharmacy (``shared_pharmacy`` on
``ingestion.prescription.issued.v2``, and on the review's release) is not dispensed at the
clinic: it is remembered as ``shared_pharmacy``, so neither the HIS's event, its resend nor the
review's release dispenses it there. Once the review released it, quality announces the order
(``quality.herbal_order.accepted.v1``) with its lines and doses, and pharmacy issues them
from the shared pharmacy's stock (the TCM hospital) exactly as it dispenses an HIS's
prescription there: first-expiry-first-out, a shortage recorded, the re-order check asked.

The issue is dispensed under the order's id at the shared pharmacy, so finance books the
herbs' revenue and cost in the TCM hospital's books, and a second copy of the order (a
resend under a new event id) finds the order's id handled and issues nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import structlog

from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.quality import HerbalOrderAccepted
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.payload import Payload
from services.pharmacy.adapters.schema import PrescriptionRow
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["SENT", "leave_to_shared_pharmacy", "order_as_prescription", "sent_to_shared_pharmacy"]

log = structlog.get_logger("shared_pharmacy")

#: The outcome of a clinic's prescription the shared pharmacy prepares.
SENT = "shared_pharmacy"


def sent_to_shared_pharmacy(record: Payload) -> bool:
    """Whether the HIS's prescription (``.v2``) or the review's release asks for the shared
    pharmacy (a ``.v1`` prescription never does)."""
    return getattr(record, "shared_pharmacy", None) is not None


def leave_to_shared_pharmacy(
    uow: PharmacyUnitOfWork, data: PrescriptionIssued, now: datetime
) -> str:
    """Remember the clinic's prescription as the shared pharmacy's: nothing leaves the
    clinic's shelf, and its release by the review is then a repeat."""
    log.info("prescription left to the shared pharmacy", prescription_id=data.prescription_id)
    uow.records.remember_prescription(
        PrescriptionRow(
            prescription_id=data.prescription_id,
            facility_id=data.facility_id,
            outcome=SENT,
            total_amount=Decimal("0.00"),
            issued_at=data.issued_at,
            handled_at=now,
        )
    )
    return SENT


def order_as_prescription(
    uow: PharmacyUnitOfWork, order: HerbalOrderAccepted
) -> PrescriptionIssued:
    """The order as a prescription of the shared pharmacy, under the order's id: what its
    stock gives out (``dispensing.dispense_prepared``). The lines' quantities are the whole
    course in the formulary's packs (a 1 kg bag of pieces), as the clinic's HIS priced them;
    the doses are the shared pharmacy's work (its fees), not more herbs."""
    tier = FacilityTier(uow.directory.require(order.pharmacy_facility_id).tier)
    return PrescriptionIssued(
        prescription_id=order.order_id,
        facility_id=order.pharmacy_facility_id,
        facility_tier=tier,
        patient_pseudonym=order.patient_pseudonym,
        category=PrescriptionCategory.TCM_HERBAL,
        lines=[
            PrescriptionLine(line_no=line.line_no, drug_code=line.drug_code, quantity=line.quantity)
            for line in order.lines
        ],
        # Priced by the formulary when dispensed; the clinic's HIS charged the patient.
        total_amount=Decimal("0.00"),
        issued_at=order.accepted_at,
    )
