"""Who a Kafka client is to the broker: its security protocol, SASL mechanism and principal.

Every client the suite opens (the relay's producer, Faust's consumers, the topic and access
commands, the dead-letter tool, reporting's rebuild) takes its options from one
:class:`KafkaCredentials`, read from the environment like every other secret:

    KAFKA_SECURITY_PROTOCOL   PLAINTEXT (the embedded broker), SASL_PLAINTEXT or SASL_SSL
    KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (services, hospital systems) or PLAIN (the
                              cluster's operator, see docs/operations.md)
    KAFKA_SASL_USERNAME       the principal: the service's name, ``his``, or the operator
    KAFKA_SASL_PASSWORD

A service's principal may write only its own topics and read only what it consumes
(``libs/events/access.py`` derives the ACLs from the catalogue).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MECHANISMS", "PROTOCOLS", "KafkaCredentials"]

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


@dataclass(frozen=True)
class KafkaCredentials:
    """A client's identity; the default is an anonymous plaintext client (embedded broker)."""

    security_protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.security_protocol not in PROTOCOLS:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL {self.security_protocol!r} is not one of {PROTOCOLS}"
            )
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"KAFKA_SASL_MECHANISM {self.mechanism!r} is not one of {MECHANISMS}")
        if self.authenticated and not (self.username and self.password):
            raise ValueError(
                f"{self.security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaCredentials:
        env = os.environ if environ is None else environ
        return cls(
            security_protocol=env.get("KAFKA_SECURITY_PROTOCOL", "") or "PLAINTEXT",
            mechanism=env.get("KAFKA_SASL_MECHANISM", "") or "SCRAM-SHA-512",
            username=env.get("KAFKA_SASL_USERNAME", ""),
            password=env.get("KAFKA_SASL_PASSWORD", ""),
        )

    @property
    def authenticated(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def principal(self) -> str:
        """``User:<name>`` as the broker's authorizer sees this client (ANONYMOUS if none)."""
        return f"User:{self.username if self.authenticated else 'ANONYMOUS'}"

    def for_principal(self, username: str, password: str) -> KafkaCredentials:
        """The same connection settings for another SCRAM principal (a service's own)."""
        return KafkaCredentials(self.security_protocol, "SCRAM-SHA-512", username, password)

    def client_options(self) -> dict[str, Any]:
        """Keyword options for kafka-python and aiokafka clients."""
        if not self.authenticated:
            return {"security_protocol": "PLAINTEXT"}
        return {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def environment(self) -> dict[str, str]:
        """The variables that give a child process these credentials."""
        return {
            "KAFKA_SECURITY_PROTOCOL": self.security_protocol,
            "KAFKA_SASL_MECHANISM": self.mechanism,
            "KAFKA_SASL_USERNAME": self.username,
            "KAFKA_SASL_PASSWORD": self.password,
        }

    def faust_credentials(self) -> Any:
        """Faust's ``broker_credentials`` (None for a plaintext client). SASL_SSL trusts the
        system's certificate authorities."""
        if not self.authenticated:
            return None
        import ssl

        import faust

        context = ssl.create_default_context() if self.security_protocol == "SASL_SSL" else None
        return faust.SASLCredentials(
            username=self.username,
            password=self.password,
            mechanism=self.mechanism,
            ssl_context=context,
        )
