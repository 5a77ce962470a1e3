"""The review centre's published prescription audits (quality): each member's month once
(the catalogue's identity, facility and month, makes a resend the backbone's to skip); they
keep nothing but their cells."""

from __future__ import annotations

from libs.events.catalogue.quality import AuditCompleted
from services.reporting.domain import audit_rules
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

__all__ = ["on_audit_completed"]


def on_audit_completed(data: AuditCompleted, uow: ReportingUnitOfWork) -> None:
    uow.record(audit_rules.audit_completed(data, uow.member(data.facility_id), uow.county))
