"""Events the administration service consumes, and the handlers that apply them.

The appraisal's figures, each from the domain that owns it:
- ``reporting.indicator.updated.v1``: the month cells of the indicators the scorecard reads;
- ``quality.audit.completed.v1``: each member's monthly prescription audit;
- ``staffing.session.delivered.v1``: expert sessions delivered at the members;
- ``finance.budget.opened.v1`` and ``finance.budget.settled.v1``: the bundle and its months.
"""

from libs.events.catalogue.finance import BudgetOpened, BudgetSettled
from libs.events.catalogue.quality import AuditCompleted
from libs.events.catalogue.reporting import IndicatorCellUpdated
from libs.events.catalogue.staffing import SessionDelivered
from libs.events.consuming import HandlerRegistry
from services.administration.service_layer import published

HANDLERS = HandlerRegistry()
HANDLERS.on(IndicatorCellUpdated)(published.record_cell)
HANDLERS.on(AuditCompleted)(published.record_audit)
HANDLERS.on(SessionDelivered)(published.record_session)
HANDLERS.on(BudgetOpened)(published.record_budget)
HANDLERS.on(BudgetSettled)(published.record_settlement)
