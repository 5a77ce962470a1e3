"""药事: a facility's stock, the transfer queue (调拨) and the formulary in the county's
words, and which step of a transfer each role may take (the pharmacy service decides; this
only offers)."""

from __future__ import annotations

from typing import Any

from libs.platform.auth import Role

__all__ = [
    "CATEGORIES",
    "KINDS",
    "OPEN_TRANSFERS",
    "REJECTIONS",
    "STEP_NAMES",
    "TIERS",
    "TRANSFER_STATES",
    "RequestRefused",
    "request_lines",
    "steps_for",
]

TRANSFER_STATES = {
    "requested": "待审批",
    "approved": "已审批待发货",
    "shipped": "已发货待签收",
    "received": "已签收",
    "rejected": "已驳回",
    "cancelled": "已取消",
}
OPEN_TRANSFERS = ("requested", "approved", "shipped")
STEP_NAMES = {"approve": "审批", "reject": "驳回", "ship": "发货", "receive": "签收"}
#: Reasons the central pharmacy gives when it refuses a transfer.
REJECTIONS = {"not_needed": "经核实无需调拨", "no_stock": "中心药房库存不足"}


def steps_for(transfer: dict[str, Any], role: Role, facility_id: str | None) -> tuple[str, ...]:
    """What ``role`` (acting for ``facility_id``) may do with ``transfer`` next: the central
    pharmacy approves, refuses and ships; the receiving facility signs for the delivery."""
    state, central = transfer["state"], role is Role.PHARMACY_CENTRE
    sender = role is Role.CLINIC_STAFF and facility_id == transfer["from_facility_id"]
    receiver = role is Role.CLINIC_STAFF and facility_id == transfer["to_facility_id"]
    if state == "requested" and central:
        return ("approve", "reject")
    if state == "approved" and (central or sender):
        return ("ship",)
    if state == "shipped" and (central or receiver):
        return ("receive",)
    return ()


class RequestRefused(ValueError):
    """A transfer request's rows do not make a request (the message is for the page)."""


def request_lines(codes: list[str], quantities: list[str]) -> list[dict[str, Any]]:
    """The rows of a clinic's request form as the pharmacy service's lines: empty rows are
    skipped; a drug chosen twice, or a quantity that is not a whole number of packs from 1
    to 10000, is refused before anything is sent."""
    lines: dict[str, int] = {}
    for code, amount in zip(codes, quantities, strict=False):
        code, amount = code.strip(), amount.strip()
        if not code and not amount:
            continue
        if not code or not amount.isdigit() or not 1 <= int(amount) <= 10_000:
            raise RequestRefused("每一行都要选药品并填写 1 到 10000 之间的整数数量")
        if code in lines:
            raise RequestRefused("同一药品请只填写一行")
        lines[code] = int(amount)
    if not lines:
        raise RequestRefused("请至少填写一种药品")
    return [{"drug_code": code, "quantity": amount} for code, amount in lines.items()]


#: The formulary's words for who may hold an entry and what it is.
TIERS = {"primary": "基层", "secondary": "二级", "tertiary": "三级"}
CATEGORIES = {"drug": "药品", "consumable": "耗材", "device": "器械"}
#: The formulary's filters as the page offers them (query value → the service's query).
KINDS = {
    "": ("全部", {}),
    "essential": ("基本药物", {"essential": "true"}),
    "tcm": ("中药", {"tcm": "true"}),
    "delisted": ("已停用", {"listed": "false"}),
}
