"""Use cases of the finance service; each public one is one unit of work."""
