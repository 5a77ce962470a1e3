"""Who may write and read which topic, derived from the catalogue, and the command that gives
a Kafka cluster those principals and ACLs.

    python -m libs.events.access apply     # SCRAM users + ACLs (as the operator)
    python -m libs.events.access show      # the matrix, for people

The rules (docs/operations.md, "Who may publish what"):

- a service's principal (its name) may **write** the topics of the event types the catalogue
  says it produces, and the dead-letter twins of the topics it consumes; it may **read** the
  topics it consumes and its own (reporting rebuilds from its changelog), those twins (its
  admin API lists and replays its own dead letters), and use its consumer group (the Faust
  app id);
- the hospital systems' principal (``his``) may write the ingestion topics and nothing else;
  the gateway, which publishes members' messages in their name, may write them too;
- everyone else, including an unauthenticated client, may do nothing: the brokers run with
  ``allow.everyone.if.no.acl.found=false``. The operator (a super user) creates topics and
  principals and replays dead letters.

Every grant is within a namespace (``KAFKA_TOPIC_PREFIX``), so counties (or test runs)
sharing a cluster cannot touch each other's topics.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import libs.events.catalogue  # noqa: F401 (registers every event type)
from libs.events.consuming.handlers import HandlerRegistry
from libs.events.credentials import KafkaCredentials
from libs.events.provenance import EDGE_PRODUCER
from libs.events.registry import registry
from libs.events.topics import admin_client, dead_letter_topic, physical_topic

__all__ = [
    "Grant",
    "acl_bindings",
    "apply_access",
    "grant_for",
    "grants",
    "password_variable",
    "principals",
    "revoke_access",
    "service_handlers",
]


@dataclass(frozen=True)
class Grant:
    """What one principal may do, in logical topic names."""

    principal: str
    writes: frozenset[str]
    reads: frozenset[str]
    group: str | None
    """The consumer group it uses (before the namespace prefix), if it consumes."""

    @property
    def topics(self) -> frozenset[str]:
        return self.writes | self.reads


def service_handlers() -> dict[str, HandlerRegistry]:
    """Each declared service's handlers (libs/platform/service.py)."""
    from libs.platform.service import definitions  # the platform builds on the events

    return {name: d.handlers for name, d in definitions().items()}


def publishing_for() -> dict[str, tuple[str, ...]]:
    """The producers each declared service publishes in the name of (the gateway: ``his``)."""
    from libs.platform.service import definitions

    return {name: d.publishes_for for name, d in definitions().items()}


def grant_for(service: str, handlers: HandlerRegistry, speaks_for: tuple[str, ...] = ()) -> Grant:
    """The grant of ``service``, which consumes what ``handlers`` handle and publishes its
    own events and those of the producers it ``speaks_for``."""
    owned = {spec.topic for spec in registry if spec.producer in (service, *speaks_for)}
    consumed = set(handlers.topics())
    dead_letters = {dead_letter_topic(t) for t in consumed}
    return Grant(
        principal=service,
        writes=frozenset(owned | dead_letters),
        reads=frozenset(owned | consumed | dead_letters),
        group=service if consumed else None,
    )


def grants() -> list[Grant]:
    """Every principal of the suite: each service, then the hospital systems."""
    speaking = publishing_for()
    found = [
        grant_for(name, handlers, speaking.get(name, ()))
        for name, handlers in service_handlers().items()
    ]
    edge = frozenset(spec.topic for spec in registry if spec.producer == EDGE_PRODUCER)
    return [*found, Grant(EDGE_PRODUCER, edge, frozenset(), None)]


def principals() -> list[str]:
    return [grant.principal for grant in grants()]


def password_variable(principal: str) -> str:
    """Where the operator's environment holds ``principal``'s password."""
    return f"{principal.upper()}_KAFKA_PASSWORD"


def acl_bindings(grant: Grant, prefix: str = "") -> list[Any]:
    """``grant`` as kafka-python ACLs, on the physical names of namespace ``prefix``."""
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    def allow(operation: Any, kind: Any, name: str) -> Any:
        return ACL(
            principal=f"User:{grant.principal}",
            host="*",
            operation=operation,
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(kind, name, ACLResourcePatternType.LITERAL),
        )

    acls = [allow(ACLOperation.WRITE, ResourceType.TOPIC, physical_topic(t, prefix))
            for t in sorted(grant.writes)]  # fmt: skip
    acls += [allow(ACLOperation.READ, ResourceType.TOPIC, physical_topic(t, prefix))
             for t in sorted(grant.reads)]  # fmt: skip
    if grant.group is not None:
        acls.append(allow(ACLOperation.READ, ResourceType.GROUP, prefix + grant.group))
    return acls


def _admin(bootstrap_servers: str, credentials: KafkaCredentials) -> Any:
    return admin_client(bootstrap_servers, credentials, "access-admin", request_timeout_ms=15_000)


def create_principals(
    bootstrap_servers: str, passwords: Mapping[str, str], credentials: KafkaCredentials
) -> None:
    """Create (or give a new password to) each SCRAM-SHA-512 principal in ``passwords``."""
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    admin = _admin(bootstrap_servers, credentials)
    try:
        failed = {
            user: error
            for user, error in admin.alter_user_scram_credentials(
                [
                    UserScramCredentialUpsertion(user, ScramMechanism.SCRAM_SHA_512, password)
                    for user, password in passwords.items()
                ]
            ).items()
            if error
        }
    finally:
        admin.close()
    if failed:
        raise RuntimeError(f"could not set the credentials of {failed}")


def apply_access(
    bootstrap_servers: str,
    credentials: KafkaCredentials,
    *,
    prefix: str = "",
    selected: Iterable[Grant] | None = None,
) -> int:
    """Create every grant's ACLs in namespace ``prefix`` (existing ones are kept); returns
    how many bindings were asked for."""
    acls = [acl for grant in (selected or grants()) for acl in acl_bindings(grant, prefix)]
    admin = _admin(bootstrap_servers, credentials)
    try:
        outcome = admin.create_acls(acls)
    finally:
        admin.close()
    if outcome.get("failed"):
        raise RuntimeError(f"could not create ACLs: {outcome['failed'][:3]}")
    return len(acls)


def revoke_access(bootstrap_servers: str, credentials: KafkaCredentials, *, prefix: str) -> None:
    """Remove the suite's ACLs of namespace ``prefix`` (the namespace is being deleted)."""
    from kafka.admin import ACLFilter

    acls = [acl for grant in grants() for acl in acl_bindings(grant, prefix)]
    filters = [
        ACLFilter(a.principal, a.host, a.operation, a.permission_type, a.resource_pattern)
        for a in acls
    ]
    admin = _admin(bootstrap_servers, credentials)
    try:
        admin.delete_acls(filters)
    finally:
        admin.close()


def _show() -> str:
    lines = []
    for grant in grants():
        lines.append(f"{grant.principal}:")
        lines.append(f"  writes: {', '.join(sorted(grant.writes)) or '-'}")
        lines.append(f"  reads:  {', '.join(sorted(grant.reads)) or '-'}")
        lines.append(f"  group:  {grant.group or '-'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m libs.events.access", description=__doc__)
    parser.add_argument("command", choices=["apply", "show"])
    parser.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    args = parser.parse_args(argv)
    if args.command == "show":
        print(_show())
        return 0
    operator = KafkaCredentials.from_env()
    if not operator.authenticated:
        print("apply needs the operator's KAFKA_SECURITY_PROTOCOL/KAFKA_SASL_*", file=sys.stderr)
        return 2
    missing = [
        password_variable(p) for p in principals() if not os.environ.get(password_variable(p))
    ]
    if missing:
        print(f"set {', '.join(missing)}", file=sys.stderr)
        return 2
    passwords = {p: os.environ[password_variable(p)] for p in principals()}
    create_principals(args.bootstrap_servers, passwords, operator)
    count = apply_access(args.bootstrap_servers, operator, prefix=args.prefix)
    print(f"{len(passwords)} principals, {count} ACL bindings in namespace {args.prefix!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
