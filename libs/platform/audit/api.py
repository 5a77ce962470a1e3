"""Reading the audit trail (county administrators only); there is no way to change it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from libs.platform.audit.table import AuditEntry
from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import require_roles

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Mutating calls to this service, newest first")
def audit_trail(
    _: Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN))],
    uow: UnitOfWorkDep,
    page: PageDep,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[dict[str, Any]]:
    query = select(AuditEntry)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(AuditEntry.id.desc()).limit(page.limit).offset(page.offset)
        )
        items = [
            {
                "at": row.at,
                "subject": row.subject,
                "role": row.role,
                "facility_id": row.facility_id,
                "method": row.method,
                "route": row.route,
                "path": row.path,
                "status": row.status,
                "client": row.client,
                "correlation_id": row.correlation_id,
                "duration_ms": row.duration_ms,
            }
            for row in rows
        ]
    return page.of(items, total=total)
