"""Events the staffing service consumes: the community's organisation, which the
administration service owns (staffing keeps its own copy, see organisation_copy)."""

from libs.events.catalogue.organisation import (
    CommunityRegistered,
    FacilityClosed,
    FacilityRegistered,
    FacilityUpdated,
)
from libs.events.consuming import HandlerRegistry
from services.staffing.service_layer import organisation_copy

HANDLERS = HandlerRegistry()
HANDLERS.on(CommunityRegistered)(organisation_copy.record_community)
HANDLERS.on(FacilityRegistered)(organisation_copy.record_facility_registered)
HANDLERS.on(FacilityUpdated)(organisation_copy.record_facility_updated)
HANDLERS.on(FacilityClosed)(organisation_copy.record_facility_closed)
