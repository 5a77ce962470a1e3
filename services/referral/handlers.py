"""Events the referral service consumes, and the handlers that apply them.

- ``organisation.*``: its copy of the facilities and departments (libs/directory);
- ``pharmacy.drug``: its copy of the unified catalogue, to check follow-up medications;
- ``staffing.timetable``: visiting specialists' sessions, to book downward follow-ups.
"""

from libs.directory import register_handlers as register_directory
from libs.events.catalogue.pharmacy import DrugDelisted, DrugListed, DrugUpdated
from libs.events.catalogue.staffing import TimetableChanged, TimetablePublished
from libs.events.consuming import HandlerRegistry
from services.referral.service_layer import follow_up, formulary

HANDLERS = HandlerRegistry()
register_directory(HANDLERS)
HANDLERS.on(DrugListed)(formulary.record_drug_listed)
HANDLERS.on(DrugUpdated)(formulary.record_drug_updated)
HANDLERS.on(DrugDelisted)(formulary.record_drug_delisted)
HANDLERS.on(TimetablePublished)(follow_up.record_timetable)
HANDLERS.on(TimetableChanged)(follow_up.record_timetable_change)
