"""Production refuses to run on development defaults for secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from libs.platform.settings import PlatformSettings


def test_production_needs_auth_keys_and_the_pseudonym_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("AUTH_KEYS", raising=False)
    monkeypatch.delenv("PSEUDONYM_SECRET", raising=False)
    with pytest.raises(ValidationError, match="AUTH_KEYS, PSEUDONYM_SECRET"):
        PlatformSettings()
    monkeypatch.setenv("AUTH_KEYS", "k1:" + "s" * 40)
    monkeypatch.setenv("PSEUDONYM_SECRET", "p" * 32)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "pharmacy")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "x" * 24)
    assert PlatformSettings().environment == "production"


def test_production_refuses_an_anonymous_broker_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("AUTH_KEYS", "k1:" + "s" * 40)
    monkeypatch.setenv("PSEUDONYM_SECRET", "p" * 32)
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL", raising=False)
    with pytest.raises(ValidationError, match="authenticated broker connection"):
        PlatformSettings()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    with pytest.raises(ValidationError, match="needs KAFKA_SASL_USERNAME"):
        PlatformSettings()


def test_development_defaults_keep_kafka_s_own_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_SESSION_TIMEOUT_S", "KAFKA_MAX_POLL_INTERVAL_S", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = PlatformSettings()
    assert settings.kafka_session_timeout_s == 45.0
    assert settings.kafka_max_poll_interval_s == 300.0
