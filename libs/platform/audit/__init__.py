"""The audit trail: every mutating call to an admin API, who made it, when, from where.

Append-only: written by middleware, readable by the county administrator, and refused by the
database itself on UPDATE or DELETE (a trigger), so nobody can edit it through the API.
"""
