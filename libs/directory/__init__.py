"""Each service's own copy of the organisation master data, kept from ``organisation.*`` events.

The administration service owns the organisation (it loads ``infra/county/``); every other
service that needs facilities and their tiers registers :func:`register_handlers` and reads
its copy through :class:`FacilityDirectory` (staffing keeps its copy in tables of its own).
Nothing here reads another service's database.
"""

from libs.directory.handlers import register_handlers
from libs.directory.lookup import FacilityDirectory
from libs.directory.tables import DIRECTORY_VERSIONS, DirectoryBase, KnownCommunity, KnownFacility

__all__ = [
    "DIRECTORY_VERSIONS",
    "DirectoryBase",
    "FacilityDirectory",
    "KnownCommunity",
    "KnownFacility",
    "register_handlers",
]
