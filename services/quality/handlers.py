"""Events the quality service consumes, and the handlers that apply them.

- ``ingestion.prescription.issued.v1`` and ``.v2``: review every prescription a member's HIS
  issues (``.v2`` carries the age band and pregnancy flag the contraindications need);
- ``ingestion.result.reported.v1``: the county's result index; ``ingestion.order.placed.v1``:
  recognise an earlier result for the ordered test (互认), or say why not;
- ``staffing.staff.*``: its copy of the prescribers' titles (antibiotic privileges);
- ``organisation.*``: its copy of the facilities (types decide grades and when to review).
- ``pharmacy.prescription.dispensed.v1``: the prescriptions the monthly audit (处方点评)
  samples from.
"""

from libs.directory import register_handlers as register_directory
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    PrescriptionIssuedV2,
    ResultReported,
)
from libs.events.catalogue.pharmacy import PrescriptionDispensed
from libs.events.catalogue.staffing import StaffDeactivated, StaffRegistered, StaffUpdated
from libs.events.consuming import HandlerRegistry
from services.quality.service_layer import dispensings, prescribers, recognition, reviewing

HANDLERS = HandlerRegistry()
register_directory(HANDLERS)
HANDLERS.on(PrescriptionIssued)(reviewing.review_prescription)
HANDLERS.on(PrescriptionIssuedV2)(reviewing.review_prescription)
HANDLERS.on(StaffRegistered)(prescribers.record_staff_registered)
HANDLERS.on(StaffUpdated)(prescribers.record_staff_updated)
HANDLERS.on(StaffDeactivated)(prescribers.record_staff_deactivated)
HANDLERS.on(ResultReported)(recognition.index_result)
HANDLERS.on(OrderPlaced)(recognition.decide_order)
HANDLERS.on(PrescriptionDispensed)(dispensings.record_dispensed)
