"""Fuzzing a service's admin API from its own OpenAPI document (schemathesis), in-process:
the app a service serves, called through its ASGI interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok


@dataclass(frozen=True)
class ServerError:
    operation: str
    status: int
    request: str
    body: str

    def __str__(self) -> str:
        return f"{self.operation} → {self.status}: {self.request}\n    {self.body[:300]}"


@dataclass
class FuzzRun:
    headers: dict[str, str]
    max_examples: int
    callers: dict[str, dict[str, str]] = field(default_factory=dict)
    """Other credentials by path prefix (a member system's on the gateway's ingestion)."""
    calls: int = 0
    errors: list[ServerError] = field(default_factory=list)
    misshapen: list[str] = field(default_factory=list)
    """Refusals not in the one error shape, ``{"error": code, "message": text, ...}``."""

    def runner(
        self, operation: schemathesis.APIOperation, mode: GenerationMode
    ) -> Callable[[], None]:
        """A Hypothesis test calling ``operation`` with generated ``mode`` input."""

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(headers=self.headers_for(operation.path))
            self.calls += 1
            if response.status_code >= 400 and not _in_the_error_shape(operation.label, response):
                self.misshapen.append(
                    f"{operation.label} → {response.status_code}: {response.text[:200]}"
                )
            if response.status_code >= 500 and not _not_ready(operation.label, response):
                self.errors.append(
                    ServerError(
                        operation=operation.label,
                        status=response.status_code,
                        request=f"{case.method} {case.formatted_path} query={case.query} "
                        f"body={str(case.body)[:300]}",
                        body=response.text,
                    )
                )

        return call

    def headers_for(self, path: str) -> dict[str, str]:
        for prefix, headers in self.callers.items():
            if path.startswith(prefix):
                return headers
        return self.headers


def _in_the_error_shape(label: str, response: Any) -> bool:
    if label == "GET /readyz" and response.status_code == 503:
        return True  # /readyz answers 503 with each check's state
    if label.startswith("GET /public") and _content_type(response).startswith("text/"):
        return True  # a page or calendar for people and their calendar apps refuses as text
    if _content_type(response).startswith("application/fhir+json"):
        return _is_operation_outcome(response)  # FHIR refuses in its own shape
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("message"), str)
        and set(body) <= {"error", "message", "details"}
    )


def _is_operation_outcome(response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("resourceType") == "OperationOutcome"


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or ""
    return str(value[0] if isinstance(value, list) else value)


def _not_ready(label: str, response: Any) -> bool:
    """``/readyz`` answers 503 while a dependency is down: its answer, not a server error (the
    in-process app has no broker of its own)."""
    return label == "GET /readyz" and response.status_code == 503


def fuzz(
    app: FastAPI,
    *,
    name: str,
    token: str,
    max_examples: int,
    callers: dict[str, dict[str, str]] | None = None,
) -> FuzzRun:
    """Call every operation of ``app`` with valid and invalid generated input; the run
    records how many requests were made and every response that was a server error (5xx).
    ``callers`` gives other credentials by path prefix (else the token's)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    run = FuzzRun({"Authorization": f"Bearer {token}"}, max_examples, callers or {})
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # the service's own OpenAPI document is broken
            raise AssertionError(f"{name}: an operation is invalid: {result.err()}")
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run.runner(operation, mode)()
            except Unsatisfiable:
                continue  # no invalid input exists for it (e.g. an operation without inputs)
    return run
