"""Local policy: reimbursement ratios, the bundle's budgets and rules, internal tariffs, the
performance fund and the half-year member appraisal fund. Loaded from YAML
(``infra/finance/policy.yaml``) and validated here.

Money and ratios are decimal strings in the file; a float there is refused, since a YAML
float like 0.9 would already have lost exactness before we saw it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.events.catalogue.values import (
    FacilityTier,
    InsuranceType,
    ReferralDirection,
    ReferralPriority,
)
from libs.events.payload import Amount, Identifier, Ratio, cents

__all__ = [
    "BudgetPlan",
    "BundlePolicy",
    "FinancePolicy",
    "MemberAppraisalPolicy",
    "OverspendBand",
    "PerformancePolicy",
    "PointWeights",
    "ReferralFeeRule",
    "SessionFeeRule",
    "ThresholdRule",
    "parse_policy",
]

RatioTable = dict[InsuranceType, dict[FacilityTier, Ratio]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_ratio_table(table: RatioTable, name: str) -> RatioTable:
    for insurance, by_tier in table.items():
        if insurance is InsuranceType.SELF_PAY:
            raise ValueError(f"{name}: self-pay visits are never reimbursed")
        missing = set(FacilityTier) - set(by_tier)
        if missing:
            raise ValueError(f"{name}.{insurance}: no ratio for {sorted(missing)}")
    return table


class ReimbursementPolicy(_Strict):
    """The share of a visit's eligible amount the fund pays, by tier and insurance type."""

    in_county: RatioTable
    out_of_county: RatioTable | None = Field(
        default=None, description="For county insurees treated outside; default: in_county."
    )

    @model_validator(mode="after")
    def _complete(self) -> ReimbursementPolicy:
        _check_ratio_table(self.in_county, "in_county")
        if self.out_of_county is not None:
            _check_ratio_table(self.out_of_county, "out_of_county")
        return self

    def ratio(
        self, tier: FacilityTier, insurance: InsuranceType, *, in_county: bool
    ) -> Decimal | None:
        """The ratio, or ``None`` when the fund pays nothing (self-pay, or not in the table)."""
        table = self.in_county if in_county or self.out_of_county is None else self.out_of_county
        return table.get(insurance, {}).get(tier)


class ThresholdRule(_Strict):
    """Alert when ``share`` of the bundle is consumed before the end of month ``by_month``."""

    share: Ratio
    by_month: int = Field(ge=1, le=12)

    @property
    def key(self) -> str:
        return f"{self.share}@{self.by_month}"


class OverspendBand(_Strict):
    """Overspend up to ``up_to`` × budget (beyond the previous band) is borne by the community
    at ``borne_by_community``, the rest by the fund; ``up_to`` None is the last band."""

    up_to: Ratio | None
    borne_by_community: Ratio


class BudgetPlan(_Strict):
    community_id: Identifier
    year: int = Field(ge=2000, le=2100)
    total: Amount
    prepayment: Amount

    @model_validator(mode="after")
    def _prepayment_within_total(self) -> BudgetPlan:
        if self.prepayment > self.total:
            raise ValueError(f"{self.community_id} {self.year}: prepayment exceeds the total")
        return self

    @property
    def budget_id(self) -> str:
        return f"BUD-{self.community_id}-{self.year}"


class BundlePolicy(_Strict):
    out_of_county_community: Identifier = Field(
        description="Whose bundle pays county insurees' visits outside the county."
    )
    withholding: Ratio = Field(
        default=Decimal("0"),
        description="Share of each month's claims the fund withholds until year end (质量保证金).",
    )
    thresholds: list[ThresholdRule] = Field(default_factory=list)
    surplus_kept: Ratio = Field(
        default=Decimal("1"), description="Share of a surplus the community keeps (结余留用)."
    )
    overspend_sharing: list[OverspendBand] = Field(min_length=1)
    budgets: list[BudgetPlan] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> BundlePolicy:
        bands = self.overspend_sharing
        if bands[-1].up_to is not None or any(b.up_to is None for b in bands[:-1]):
            raise ValueError("overspend_sharing: only the last band is open-ended (up_to: null)")
        limits = [b.up_to for b in bands[:-1] if b.up_to is not None]
        if limits != sorted(set(limits)):
            raise ValueError("overspend_sharing: up_to must increase")
        keys = [(b.community_id, b.year) for b in self.budgets]
        if len(keys) != len(set(keys)):
            raise ValueError("budgets: one budget per community and year")
        return self

    def plan(self, community_id: str, year: int) -> BudgetPlan | None:
        for plan in self.budgets:
            if plan.community_id == community_id and plan.year == year:
                return plan
        return None


class ReferralFeeRule(_Strict):
    """The internal fee of a completed referral in one direction, by priority."""

    payer: Literal["from_facility", "to_facility"]
    routine: Amount
    urgent: Amount
    emergency: Amount

    def fee(self, priority: ReferralPriority) -> Decimal:
        return Decimal(getattr(self, priority.value))


class SessionFeeRule(_Strict):
    """The internal fee of an expert session at a member (专家下沉坐诊)."""

    payer: Literal["host", "home"] = Field(
        description="host: the facility the session was held at pays the expert's home."
    )
    base: Amount
    per_patient: Amount = Decimal("0")
    per_home_visit: Amount = Decimal("0")

    def fee(self, patients_seen: int, home_visits: int) -> Decimal:
        return cents(
            self.base + self.per_patient * patients_seen + self.per_home_visit * home_visits
        )


class TariffPolicy(_Strict):
    referral_fees: dict[ReferralDirection, ReferralFeeRule]
    session_fee: SessionFeeRule

    @model_validator(mode="after")
    def _both_directions(self) -> TariffPolicy:
        missing = set(ReferralDirection) - set(self.referral_fees)
        if missing:
            raise ValueError(f"referral_fees: no rule for {sorted(missing)}")
        return self


class PointWeights(_Strict):
    """Appraisal points per unit of work (资源下沉 and referrals handled)."""

    session: Decimal = Field(ge=0, max_digits=8, decimal_places=2)
    patient_seen: Decimal = Field(ge=0, max_digits=8, decimal_places=2)
    home_visit: Decimal = Field(ge=0, max_digits=8, decimal_places=2)
    referral_referring: Decimal = Field(ge=0, max_digits=8, decimal_places=2)
    referral_receiving: Decimal = Field(ge=0, max_digits=8, decimal_places=2)


class PerformancePolicy(_Strict):
    share_of_special_fund: Ratio
    special_fund_per_month: dict[Identifier, Amount] = Field(
        default_factory=dict, description="Each community's special fund for one month."
    )
    weights: PointWeights


class MemberAppraisalPolicy(_Strict):
    """The half-year member appraisal fund (绩效考核): ``share_of_special_fund`` of each
    community's half-year special fund is split among its members by their approved scores."""

    share_of_special_fund: Ratio
    special_fund_per_half_year: dict[Identifier, Amount] = Field(
        default_factory=dict, description="Each community's special fund for one half-year."
    )

    def special_fund(self, community_id: str) -> Decimal | None:
        """The community's half-year special fund, or ``None`` when none is configured."""
        return self.special_fund_per_half_year.get(community_id)


class FinancePolicy(_Strict):
    reimbursement: ReimbursementPolicy
    bundle: BundlePolicy
    tariff: TariffPolicy
    performance_pay: PerformancePolicy
    member_appraisal: MemberAppraisalPolicy = Field(
        default_factory=lambda: MemberAppraisalPolicy(share_of_special_fund=Decimal("0"))
    )


def _refuse_floats(node: Any, path: str) -> None:
    if isinstance(node, float):
        raise ValueError(f"{path}: write decimals as quoted strings, e.g. '0.90'")
    if isinstance(node, dict):
        for key, value in node.items():
            _refuse_floats(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_floats(value, f"{path}[{i}]")


def parse_policy(doc: dict[str, Any]) -> FinancePolicy:
    """Validate a policy document (the parsed YAML)."""
    _refuse_floats(doc, "")
    return FinancePolicy.model_validate(doc)
