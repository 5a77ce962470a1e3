"""The operations console (运营工作台), port 8100: one Chinese web workplace for the
management centre and the members, over the services' admin APIs.

It owns nothing but its user accounts and their sessions: every board is read from, and every
action sent to, the service that owns it, with a short-lived token for the signed-in person,
so each service's own role and facility checks still decide (docs/console.md).
"""
