"""Events the finance service consumes, and the use cases that apply them."""

from libs.directory import register_handlers as register_directory
from libs.events.catalogue.administration import AppraisalApproved
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.pharmacy import (
    PrescriptionDispensed,
    StockAdjusted,
    StockReceived,
    StockWrittenOff,
    TransferReceived,
)
from libs.events.catalogue.quality import HerbalOrderDelivered, ResultRecognised
from libs.events.catalogue.referral import ReferralCompleted
from libs.events.catalogue.staffing import SessionDelivered
from libs.events.consuming import HandlerRegistry
from services.finance.service_layer import (
    appraisal_fund,
    drugs,
    fees,
    recognition,
    shared_pharmacy,
    visits,
)

HANDLERS = HandlerRegistry()
register_directory(HANDLERS)

HANDLERS.on(VisitRecorded)(visits.record_visit)
# drugs come hundreds a second at the province's peak: a batch's records of a type post together
HANDLERS.on_set(PrescriptionDispensed)(drugs.record_dispensing)
HANDLERS.on_set(TransferReceived)(drugs.record_transfer)
HANDLERS.on_set(StockWrittenOff)(drugs.record_write_off)
HANDLERS.on_set(StockReceived)(drugs.record_receipt)
HANDLERS.on_set(StockAdjusted)(drugs.record_adjustment)
HANDLERS.on(ReferralCompleted)(fees.record_referral)
HANDLERS.on(SessionDelivered)(fees.record_session)
HANDLERS.on(ResultRecognised)(recognition.record_recognition)
HANDLERS.on(HerbalOrderDelivered)(shared_pharmacy.settle_order)
HANDLERS.on(AppraisalApproved)(appraisal_fund.allocate_appraisal_fund)
