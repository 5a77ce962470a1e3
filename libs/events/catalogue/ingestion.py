"""Events the facilities' information systems send: visits and prescriptions (HIS), test
orders (HIS) and results (LIS, PACS).

They enter through the ingestion topics (and the HTTP ingestion edge) and are validated
there; they are keyed by facility so one facility's stock and books are touched by one
partition consumer at a time.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from libs.events.catalogue.values import (
    AgeBand,
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    TestKind,
    VisitType,
)
from libs.events.payload import (
    Amount,
    Code,
    Count,
    DiagnosisCode,
    Identifier,
    Instant,
    Payload,
    Pseudonym,
    Quantity,
    UnitPrice,
)
from libs.events.registry import event_type

PRODUCER = "his"


@event_type(
    "ingestion.visit.recorded.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="occurred_at",
    identity=("facility_id", "visit_id"),
)
class VisitRecorded(Payload):
    """A patient visit (outpatient, emergency or inpatient stay) was recorded by a facility.

    Visits of county insurees at facilities outside the county arrive here too (from the
    insurance settlement feed, with ``facility_in_county`` false): they are paid from the
    same bundle and count in the in-county visit rate's denominator.

    The amounts are the visit's charges for services (consultation, examination, treatment,
    bed days). Drugs the community pharmacy dispenses are billed by their prescription
    (``ingestion.prescription.issued.v1``), never here: finance books drug revenue when
    pharmacy dispenses, so counting them in the visit too would book them twice.
    """

    visit_id: Identifier
    facility_id: Identifier
    facility_tier: FacilityTier
    facility_in_county: bool = True
    patient_pseudonym: Pseudonym
    insurance_type: InsuranceType
    insured_in_county: bool = Field(
        default=True, description="The patient is insured under this county's fund."
    )
    visit_type: VisitType
    department_id: Identifier | None = None
    diagnosis_codes: list[DiagnosisCode] = Field(default_factory=list, max_length=20)
    total_amount: Amount = Field(description="Charges for services, drugs excluded.")
    eligible_amount: Amount = Field(description="The part insurance covers (政策范围内).")
    occurred_at: Instant

    @model_validator(mode="after")
    def _eligible_within_total(self) -> VisitRecorded:
        if self.eligible_amount > self.total_amount:
            raise ValueError("eligible_amount cannot exceed total_amount")
        return self


class PrescriptionLine(Payload):
    line_no: int = Field(ge=1, le=200)
    drug_code: Identifier
    quantity: Quantity = Field(description="Packs, in the formulary's unit.")
    unit_price: UnitPrice | None = Field(
        default=None, description="The price the HIS charged; pharmacy uses the formulary's."
    )
    days_supply: int | None = Field(default=None, ge=1, le=365)


@event_type(
    "ingestion.prescription.issued.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="issued_at",
    identity=("facility_id", "prescription_id"),
)
class PrescriptionIssued(Payload):
    """A prescriber at a facility issued a prescription; pharmacy dispenses it."""

    prescription_id: Identifier
    visit_id: Identifier | None = None
    facility_id: Identifier
    facility_tier: FacilityTier
    patient_pseudonym: Pseudonym
    prescriber_id: Identifier | None = None
    department_id: Identifier | None = None
    category: PrescriptionCategory
    lines: list[PrescriptionLine] = Field(min_length=1, max_length=50)
    total_amount: Amount = Field(description="The drug charges, as the HIS priced them.")
    issued_at: Instant

    @model_validator(mode="after")
    def _line_numbers_unique(self) -> PrescriptionIssued:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_no must be unique within a prescription")
        return self


class SharedPharmacyRequest(Payload):
    """A herbal prescription sent to the county's shared TCM pharmacy (共享中药房): prepared
    from its stock, decocted if asked (代煎) and delivered to the patient's home. The address
    goes from the clinic to the shared pharmacy's courier directly, never onto the backbone."""

    doses: int = Field(ge=1, le=60, description="Doses (剂数), one a day.")
    decoct: bool = Field(default=True, description="Decocted and packed at the pharmacy (代煎).")
    deliver_home: bool = Field(default=True, description="Delivered to the patient's home.")


@event_type(
    "ingestion.prescription.issued.v2",
    key="facility_id",
    producer=PRODUCER,
    time_field="issued_at",
    identity=("facility_id", "prescription_id"),
)
class PrescriptionIssuedV2(PrescriptionIssued):
    """A prescriber at a facility issued a prescription, with what the central review needs
    beyond ``.v1``: the prescriber always, the patient's age band and pregnancy flag as the
    HIS knows them, and for herbal prescriptions whether the shared TCM pharmacy prepares
    and delivers it. The same fact as ``.v1``: a prescription sent as both is one."""

    prescriber_id: Identifier  # required from .v2 on
    patient_age_band: AgeBand | None = Field(
        default=None, description="None when the HIS does not know the patient's age."
    )
    pregnant: bool | None = Field(default=None, description="None when not recorded.")
    shared_pharmacy: SharedPharmacyRequest | None = None

    @model_validator(mode="after")
    def _shared_pharmacy_is_herbal(self) -> PrescriptionIssuedV2:
        if self.shared_pharmacy is not None and self.category != PrescriptionCategory.TCM_HERBAL:
            raise ValueError("shared_pharmacy is only for tcm_herbal prescriptions")
        return self


@event_type(
    "ingestion.order.placed.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="ordered_at",
    identity=("facility_id", "order_id"),
)
class OrderPlaced(Payload):
    """A clinician at a facility ordered a laboratory test or an imaging examination
    (检查检验申请). With the results index it tells whether the patient already had it."""

    order_id: Identifier
    visit_id: Identifier | None = None
    facility_id: Identifier
    facility_tier: FacilityTier
    patient_pseudonym: Pseudonym
    orderer_id: Identifier | None = None
    department_id: Identifier | None = None
    test_kind: TestKind
    test_code: Code = Field(description="The county's code of the test or examination item.")
    ordered_at: Instant


@event_type(
    "ingestion.result.reported.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="reported_at",
    identity=("facility_id", "result_id"),
)
class ResultReported(Payload):
    """A facility's laboratory or imaging system reported a result (检查检验结果)."""

    result_id: Identifier
    order_id: Identifier | None = Field(
        default=None, description="The order it answers, when the facility placed one."
    )
    facility_id: Identifier
    facility_tier: FacilityTier
    patient_pseudonym: Pseudonym
    test_kind: TestKind
    test_code: Code = Field(description="The county's code of the test or examination item.")
    observation_count: Count = Field(default=0, description="Observations the report holds.")
    performed_at: Instant | None = None
    reported_at: Instant

    @model_validator(mode="after")
    def _performed_before_reported(self) -> ResultReported:
        if self.performed_at is not None and self.performed_at > self.reported_at:
            raise ValueError("performed_at cannot be after reported_at")
        return self
