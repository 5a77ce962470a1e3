"""The chart of accounts: one set of books per member facility, one pool per community.

Every member keeps its own books, accounted centrally (独立建账、集中核算); the community's
pool books hold the insurance bundle and the special fund. The posting rules name these
codes, so the chart is part of the system's accounting design, not local policy.

Memorandum accounts (备查, class 9: outside the financial classes 1–5 and the budgetary
classes 6–8 of the government accounting system) record what is worth counting but is not
money: a repeat test avoided by recognising an earlier result. They come in pairs and an
entry's memorandum lines balance among themselves, so they never touch the balance sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CHART", "Account", "AccountType", "Scope", "account"]


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    NET_ASSETS = "net_assets"
    REVENUE = "revenue"
    EXPENSE = "expense"
    MEMORANDUM = "memorandum"  # off the balance sheet (备查): counted, not money

    @property
    def debit_normal(self) -> bool:
        """Whether a positive balance of this type is a debit balance (a memorandum pair has
        one of each: see the accounts themselves)."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class Scope(StrEnum):
    FACILITY = "facility"  # in every member's own books
    POOL = "pool"  # in a community's pool books


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    name_zh: str
    type: AccountType
    scope: Scope


_F, _P = Scope.FACILITY, Scope.POOL
_A, _L, _N = AccountType.ASSET, AccountType.LIABILITY, AccountType.NET_ASSETS
_R, _E, _M = AccountType.REVENUE, AccountType.EXPENSE, AccountType.MEMORANDUM

CHART: dict[str, Account] = {
    a.code: a
    for a in (
        # --- each member facility's books
        Account("1002", "Bank deposits", "银行存款", _A, _F),
        Account("1211", "Receivable from patients", "应收医疗款", _A, _F),
        Account("1215", "Due from the community pool", "应收医共体统筹款", _A, _F),
        Account("1216", "Due from other members", "应收成员单位款", _A, _F),
        Account("1302", "Drug and consumable inventory", "库存药品及耗材", _A, _F),
        Account("2215", "Performance pay payable", "应付绩效工资", _L, _F),
        Account("2302", "Payable to suppliers", "应付账款", _L, _F),
        Account("2306", "Due to other members", "应付成员单位款", _L, _F),
        Account("3001", "Net assets", "净资产", _N, _F),
        Account("4001", "Medical service revenue", "医疗收入", _R, _F),
        Account("4002", "Drug revenue", "药品收入", _R, _F),
        Account("4003", "Internal transfer margin", "内部调拨差价", _R, _F),
        Account("4101", "Internal fees earned", "内部服务收入", _R, _F),
        Account("5001", "Cost of drugs dispensed", "药品费", _E, _F),
        Account("5002", "Inventory losses and write-offs", "存货盘亏及报损", _E, _F),
        Account("5101", "Internal fees paid", "内部服务费用", _E, _F),
        # memorandum (备查), in each member's books: debit 9001, credit 9002
        Account("9001", "Spending avoided by result recognition", "互认节约费用", _M, _F),
        Account(
            "9002",
            "Savings to the insurance fund and patients (memorandum)",
            "医保基金及患者节约备查",
            _M,
            _F,
        ),
        # --- each community's pool books
        Account("1003", "Pool bank deposits", "统筹资金存款", _A, _P),
        Account("1221", "Receivable from the insurance fund", "应收医保基金款", _A, _P),
        Account("2201", "Insurance bundle not yet consumed", "医保打包预算（未消耗）", _L, _P),
        Account("2241", "Due to members", "应付成员单位统筹款", _L, _P),
        Account("4201", "Bundle surplus kept", "医保结余留用收入", _R, _P),
        Account("5302", "Bundle overspend borne", "医保超支分担", _E, _P),
        Account("5303", "Performance pay from the special fund", "绩效工资（专项资金）", _E, _P),
    )
}


def account(code: str) -> Account | None:
    """The account with ``code``, or ``None`` if the chart has none."""
    return CHART.get(code)


# Codes the posting rules use, by meaning (so a rule reads as accounting, not as numbers).
BANK = "1002"
PATIENT_RECEIVABLE = "1211"
DUE_FROM_POOL = "1215"
DUE_FROM_MEMBERS = "1216"
INVENTORY = "1302"
PERFORMANCE_PAY_PAYABLE = "2215"
SUPPLIER_PAYABLE = "2302"
DUE_TO_MEMBERS = "2306"
NET_ASSETS = "3001"
MEDICAL_REVENUE = "4001"
DRUG_REVENUE = "4002"
TRANSFER_MARGIN = "4003"
INTERNAL_FEES_EARNED = "4101"
DRUG_COST = "5001"
INVENTORY_LOSS = "5002"
INTERNAL_FEES_PAID = "5101"
RECOGNITION_SAVINGS = "9001"
SAVINGS_MEMORANDUM = "9002"
POOL_BANK = "1003"
FUND_RECEIVABLE = "1221"
BUNDLE_UNCONSUMED = "2201"
POOL_DUE_TO_MEMBERS = "2241"
SURPLUS_KEPT = "4201"
OVERSPEND_BORNE = "5302"
PERFORMANCE_PAY = "5303"
