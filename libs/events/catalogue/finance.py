"""Finance (财务一体化): the pooled ledger, the insurance bundle, settlements, performance pay."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from libs.events.catalogue.values import FacilityTier, InsuranceType
from libs.events.payload import (
    Amount,
    Code,
    Identifier,
    Instant,
    Money,
    Payload,
    Period,
    Ratio,
)
from libs.events.registry import event_type

PRODUCER = "finance"


# --- the journal: topic finance.journal_entry, keyed by entry ----------------------------------


class EntryType(StrEnum):
    BUDGET_PREPAYMENT = "budget_prepayment"  # the bundle opened and prepaid
    VISIT_CLAIM = "visit_claim"  # a visit's charges, and what the bundle pays of them
    DISPENSE = "dispense"  # drug revenue and the cost of the lots dispensed
    TRANSFER_SETTLEMENT = "transfer_settlement"  # a transfer received, at the unified price
    WRITE_OFF = "write_off"  # expired/damaged/recalled stock lost
    STOCK_RECEIPT = "stock_receipt"  # stock bought, an opening balance, a return to stock
    STOCK_ADJUSTMENT = "stock_adjustment"  # a stock-taking difference
    REFERRAL_FEE = "referral_fee"  # the internal fee of a completed referral
    SESSION_FEE = "session_fee"  # the internal fee of an expert session at a member
    INTERNAL_SETTLEMENT = "internal_settlement"  # members paying what they owe each other
    PERFORMANCE_PAY = "performance_pay"  # the performance fund allocated at period close
    BUDGET_SETTLEMENT = "budget_settlement"  # the fund's monthly provisional payment
    BUDGET_RECONCILIATION = "budget_reconciliation"  # the year-end reconciliation
    RECOGNITION_SAVING = "recognition_saving"  # a repeat test avoided (结果互认): memorandum
    SHARED_PHARMACY_FEE = "shared_pharmacy_fee"  # an order prepared and delivered (共享中药房)
    MANUAL = "manual"
    REVERSAL = "reversal"


class JournalLine(Payload):
    account_code: Code
    facility_id: Identifier | None = Field(
        default=None, description="The member whose books the line is in; none for pool accounts."
    )
    community_id: Identifier | None = Field(
        default=None,
        description="The community the line's books roll up to; for a pool line, whose pool.",
    )
    debit: Amount = Decimal("0.00")
    credit: Amount = Decimal("0.00")

    @model_validator(mode="after")
    def _one_side(self) -> JournalLine:
        if (self.debit > 0) == (self.credit > 0):
            raise ValueError("a journal line has exactly one of debit or credit")
        return self


@event_type(
    "finance.journal_entry.posted.v1", key="entry_id", producer=PRODUCER, identity=("entry_id",)
)
class JournalEntryPosted(Payload):
    """A balanced double-entry journal entry was posted; entries are never edited.

    A correction is a new entry of type ``reversal`` naming the entry it reverses.
    """

    entry_id: Identifier
    entry_type: EntryType
    period: Period
    memo: str = Field(max_length=500)
    lines: list[JournalLine] = Field(min_length=2, max_length=500)
    causation_event_id: Identifier | None = None
    causation_event_type: str | None = Field(default=None, max_length=100)
    reverses_entry_id: Identifier | None = None
    original_period: Period | None = Field(
        default=None,
        description="Set when the causing event is dated in a period that was already closed: "
        "the entry is posted in the first open period after it instead.",
    )
    posted_at: Instant

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntryPosted:
        debits = sum((line.debit for line in self.lines), Decimal(0))
        credits = sum((line.credit for line in self.lines), Decimal(0))
        if debits != credits:
            raise ValueError(f"entry does not balance: debits {debits} != credits {credits}")
        return self


# --- claims valued against the bundle: topic finance.claim, keyed by claim ---------------------


@event_type("finance.claim.valued.v1", key="claim_id", producer=PRODUCER, identity=("claim_id",))
class ClaimValued(Payload):
    """A visit was valued against the insurance bundle (amount × the tier's ratio).

    Only visits of the county's insurees are valued (self-pay visits and insurees of other
    counties' funds do not touch the bundle); out-of-county visits drain the same bundle.
    """

    claim_id: Identifier
    visit_id: Identifier
    facility_id: Identifier
    facility_tier: FacilityTier
    facility_in_county: bool
    insurance_type: InsuranceType
    eligible_amount: Amount
    reimbursement_ratio: Ratio
    fund_payout: Amount = Field(description="cents(eligible_amount × reimbursement_ratio).")
    patient_copay: Amount = Field(description="The patient's share of the eligible amount.")
    community_id: Identifier = Field(description="The community whose bundle pays the claim.")
    period: Period = Field(description="The accounting period the claim was posted in.")
    budget_id: Identifier
    budget_consumed: Amount = Field(description="Bundle consumed to date, this claim included.")
    budget_total: Amount
    occurred_at: Instant
    valued_at: Instant


# --- the bundle (打包支付): topic finance.budget, keyed by budget ------------------------------


class _BudgetRef(Payload):
    budget_id: Identifier
    community_id: Identifier
    year: int = Field(ge=2000, le=2100)


@event_type("finance.budget.opened.v1", key="budget_id", producer=PRODUCER)
class BudgetOpened(_BudgetRef):
    """The yearly insurance bundle was set and prepaid to the community."""

    total_amount: Amount
    prepaid_amount: Amount
    opened_at: Instant


@event_type("finance.budget.threshold_crossed.v1", key="budget_id", producer=PRODUCER)
class BudgetThresholdCrossed(_BudgetRef):
    """The consumed share of the bundle ran ahead of the calendar (e.g. 80% used by month 8)."""

    threshold: Ratio
    consumed_share: Ratio
    calendar_share: Ratio
    consumed_amount: Amount
    total_amount: Amount
    crossed_at: Instant


@event_type("finance.budget.settled.v1", key="budget_id", producer=PRODUCER)
class BudgetSettled(_BudgetRef):
    """The monthly provisional settlement of the bundle."""

    period: Period
    consumed_in_period: Amount
    consumed_to_date: Amount
    provisional_payment: Amount = Field(
        description="What the insurance fund paid the community for the period."
    )
    member_payments: Amount = Field(
        default=Decimal("0.00"),
        description="What the community paid its members for their claims of the period.",
    )
    settled_at: Instant


@event_type("finance.budget.reconciled.v1", key="budget_id", producer=PRODUCER)
class BudgetReconciled(_BudgetRef):
    """The year-end reconciliation: surplus kept (结余留用) or overspend shared (合理超支分担)."""

    total_amount: Amount
    consumed_amount: Amount
    surplus_kept: Amount
    surplus_returned: Amount = Field(
        default=Decimal("0.00"), description="The part of the surplus handed back to the fund."
    )
    overspend: Amount
    overspend_borne_by_community: Amount
    overspend_borne_by_fund: Amount
    final_payment: Money = Field(
        default=Decimal("0.00"),
        description="The fund's closing payment to the community (negative: a refund to it).",
    )
    reconciled_at: Instant


# --- internal settlement: topic finance.settlement, keyed by run -------------------------------


class SettlementKind(StrEnum):
    DRUG_TRANSFER = "drug_transfer"
    REFERRAL_FEE = "referral_fee"
    SESSION_FEE = "session_fee"
    SHARED_PHARMACY_FEE = "shared_pharmacy_fee"  # preparation, decoction and delivery (共享中药房)


class SettlementLine(Payload):
    payer_facility_id: Identifier
    payee_facility_id: Identifier
    kind: SettlementKind
    amount: Amount


@event_type(
    "finance.settlement.completed.v1", key="run_id", producer=PRODUCER, identity=("run_id",)
)
class SettlementCompleted(Payload):
    """An internal settlement run between members closed for a period."""

    run_id: Identifier
    period: Period
    lines: list[SettlementLine] = Field(max_length=10_000)
    total_amount: Amount
    completed_at: Instant


# --- performance pay (绩效): topic finance.performance_pay, keyed by allocation ---------------


class StaffAllocation(Payload):
    staff_id: Identifier
    facility_id: Identifier
    points: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    amount: Amount


@event_type(
    "finance.performance_pay.allocated.v1",
    key="allocation_id",
    producer=PRODUCER,
    identity=("allocation_id",),
)
class PerformancePayAllocated(Payload):
    """A period close distributed the performance fund by appraisal points, to the cent."""

    allocation_id: Identifier
    period: Period
    community_id: Identifier | None = Field(
        default=None, description="The community whose special fund was distributed."
    )
    special_fund_amount: Amount | None = None
    fund_share: Ratio | None = Field(
        default=None, description="The share of the special fund put into performance pay."
    )
    fund_amount: Amount
    allocations: list[StaffAllocation] = Field(max_length=100_000)
    allocated_at: Instant

    @model_validator(mode="after")
    def _whole_fund(self) -> PerformancePayAllocated:
        total = sum((a.amount for a in self.allocations), Decimal(0))
        if self.allocations and total != self.fund_amount:
            raise ValueError(f"allocations sum to {total}, not the fund {self.fund_amount}")
        return self


# --- accounting periods: topic finance.period, keyed by period ---------------------------------


@event_type("finance.period.closed.v1", key="period", producer=PRODUCER)
class PeriodClosed(Payload):
    """An accounting period was closed: no more postings dated in it."""

    period: Period
    closed_at: Instant
