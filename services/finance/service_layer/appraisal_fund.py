"""The half-year member appraisal fund (绩效考核) in the books: each community's performance
fund split among its members by the scores the management committee approved.

How a fund is split and posted is the domain's (``domain/appraisal_fund.py``); this use case
applies an approval (``administration.appraisal.approved.v1``), posts each community's split
in the month of the approval (the first open month after it, if that one is closed) and
records it as a settlement run of kind ``appraisal_fund:r<revision>`` for the half-year and
the community, so the database itself refuses a second posting of one (period, revision,
community).

Corrections: an approval of a revision above the highest the period was allocated for first
reverses, per community, the entries of the latest revision posted (one reversing entry per
entry, naming it), then posts the new split; an approval of a revision at or below it (a late
replay of an old approval) changes nothing. So a re-approval reverses and re-posts once and
never doubles the fund.

Bad data is refused as for any posting (a dead letter): a member this copy of the
organisation does not know (``unknown_facility``), or one the approval puts in another
community than the organisation does (``community_mismatch``). A community without a
configured fund gets nothing, with a warning.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

import structlog
from sqlalchemy import select

from libs.events.catalogue.administration import AppraisalApproved
from libs.events.catalogue.finance import EntryType
from libs.platform.refusals import Invalid
from services.finance.adapters.schema import JournalEntry, JournalLine, SettlementRun
from services.finance.domain.appraisal_fund import MemberSplit, reversal_lines, split_fund
from services.finance.domain.journal import ZERO, Book, Line, draft, split_by_book
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import PostingPeriod, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["APPRAISAL_FUND", "allocate_appraisal_fund", "revision_of", "run_kind"]

APPRAISAL_FUND = "appraisal_fund"
_PREFIX = f"{APPRAISAL_FUND}:r"

log = structlog.get_logger("finance.appraisal_fund")


def run_kind(revision: int) -> str:
    """The settlement run kind of one revision (zero-padded, so kinds sort by revision)."""
    return f"{_PREFIX}{revision:04d}"


def revision_of(kind: str) -> int:
    return int(kind.removeprefix(_PREFIX))


def appraisal_runs(uow: FinanceUnitOfWork, period: str) -> list[SettlementRun]:
    """Every community's runs for the half-year ``period``, oldest revision first."""
    query = (
        select(SettlementRun)
        .where(SettlementRun.kind.startswith(_PREFIX), SettlementRun.period == period)
        .order_by(SettlementRun.kind, SettlementRun.scope)
    )
    return list(uow.session.scalars(query))


def allocate_appraisal_fund(data: AppraisalApproved, uow: FinanceUnitOfWork) -> None:
    """Post each community's split of an approved appraisal, reversing what an earlier
    revision posted; a revision not above the highest allocated is a late replay: nothing."""
    runs = appraisal_runs(uow, data.period)
    highest = max((revision_of(run.kind) for run in runs), default=0)
    if data.revision <= highest:
        log.info(
            "appraisal_fund.superseded",
            period=data.period,
            revision=data.revision,
            allocated=highest,
        )
        return
    latest = {run.scope: run for run in runs}  # each community's latest revision
    scores = _scores_by_community(uow, data)
    at = posting_period(uow, period_of(data.approved_at, uow.clock))
    for community in sorted(scores.keys() | latest.keys()):
        _allocate(uow, data, community, scores.get(community, {}), latest.get(community), at)


def _scores_by_community(
    uow: FinanceUnitOfWork, data: AppraisalApproved
) -> dict[str, dict[str, Decimal]]:
    """The approved scores per community and member; every member must be one this copy
    knows, in the community the approval names."""
    uow.load_members(m.facility_id for m in data.members)
    scores: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for member in data.members:
        book = uow.member(member.facility_id)
        if book.community_id != member.community_id:
            raise Invalid(
                "community_mismatch",
                f"{member.facility_id} is a member of {book.community_id}, "
                f"not of {member.community_id}",
            )
        scores[member.community_id][member.facility_id] = member.score
    return dict(scores)


def _allocate(
    uow: FinanceUnitOfWork,
    data: AppraisalApproved,
    community: str,
    scores: dict[str, Decimal],
    previous: SettlementRun | None,
    at: PostingPeriod,
) -> None:
    """One community: reverse its previous revision's posting, post and record the new."""
    kind = run_kind(data.revision)
    if uow.records.has_run(kind, data.period, community):
        return  # this (period, revision, community) is posted already
    split = split_fund(community, scores, uow.policy.member_appraisal) if scores else None
    if scores and split is None:
        log.warning(
            "appraisal_fund.no_fund_configured",
            community=community,
            period=data.period,
            revision=data.revision,
        )
    if split is None and previous is None:
        return  # nothing was posted and nothing is to be
    reversal = _reverse(uow, data, community, previous, at) if previous else []
    entries = _post(uow, data, split, at) if split else []
    uow.records.add_run(
        SettlementRun(
            run_id=f"APF-{uuid.uuid4().hex}",
            kind=kind,
            period=data.period,
            scope=community,
            total=split.total if split else ZERO,
            detail=_detail(data, split, entries, previous, reversal, at),
            completed_at=uow.clock.now(),
        )
    )


def _post(
    uow: FinanceUnitOfWork, data: AppraisalApproved, split: MemberSplit, at: PostingPeriod
) -> list[str]:
    """Post the split (as several entries if it is too long for one); the entries' ids."""
    memo = (
        f"Appraisal fund {data.period} (revision {data.revision}) of {split.community_id}: "
        f"{split.share} of the special fund {split.special_fund}, split by score"
    )
    source = f"{APPRAISAL_FUND}:{data.period}:r{data.revision}:{split.community_id}"
    posted = []
    for n, chunk in enumerate(split_by_book(split.lines()), start=1):
        entry = draft(EntryType.PERFORMANCE_PAY, memo, chunk)
        if entry is not None:
            event = post(uow, entry, at, occurred_at=data.approved_at, source_key=f"{source}:{n}")
            posted.append(event.entry_id)
    return posted


def _reverse(
    uow: FinanceUnitOfWork,
    data: AppraisalApproved,
    community: str,
    previous: SettlementRun,
    at: PostingPeriod,
) -> list[str]:
    """Reverse each entry the previous revision posted for ``community`` (once each)."""
    reversed_ids = []
    for entry_id in previous.detail.get("entry_ids", []):
        taken = select(JournalEntry.entry_id).where(JournalEntry.reverses_entry_id == entry_id)
        if uow.session.execute(taken).first() is not None:
            continue
        memo = (
            f"Reversal of {entry_id}: appraisal fund {data.period} of {community}, "
            f"revision {revision_of(previous.kind)} replaced by revision {data.revision}"
        )
        entry = draft(EntryType.REVERSAL, memo, reversal_lines(_lines_of(uow, entry_id)))
        if entry is None:
            continue
        event = post(
            uow,
            entry,
            at,
            occurred_at=data.approved_at,
            source_key=f"{APPRAISAL_FUND}:{data.period}:r{data.revision}:reverses:{entry_id}",
            reverses_entry_id=entry_id,
        )
        reversed_ids.append(event.entry_id)
    return reversed_ids


def _lines_of(uow: FinanceUnitOfWork, entry_id: str) -> list[Line]:
    rows = uow.session.scalars(
        select(JournalLine).where(JournalLine.entry_id == entry_id).order_by(JournalLine.line_no)
    )
    return [
        Line(Book(r.community_id, r.facility_id), r.account_code, r.debit, r.credit) for r in rows
    ]


def _detail(
    data: AppraisalApproved,
    split: MemberSplit | None,
    entries: list[str],
    previous: SettlementRun | None,
    reversal: list[str],
    at: PostingPeriod,
) -> dict[str, object]:
    """What the run keeps for the read API: the fund, each member's score and amount, the
    entries, and which revision it replaced."""
    return {
        "revision": data.revision,
        "approved_by": data.approved_by,
        "approved_at": data.approved_at.isoformat(),
        "posted_in": at.period,
        "special_fund": str(split.special_fund) if split else None,
        "share_of_special_fund": str(split.share) if split else None,
        "fund": str(split.fund) if split else None,
        "members": split.members() if split else [],
        "entry_ids": entries,
        "replaces_revision": revision_of(previous.kind) if previous else None,
        "reversal_entry_ids": reversal,
    }
