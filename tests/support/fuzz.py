"""Fuzzing a running service's admin API from its own OpenAPI document (schemathesis)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.support.services import ServiceHandle


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
    service: ServiceHandle
    headers: dict[str, str]
    max_examples: int
    calls: int = 0
    errors: list[ServerError] = field(default_factory=list)

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
            response = case.call(base_url=self.service.url, headers=self.headers, timeout=30)
            self.calls += 1
            if response.status_code >= 500:
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


def fuzz(service: ServiceHandle, *, token: str, max_examples: int) -> FuzzRun:
    """Call every operation with valid and invalid generated input; the run records how many
    requests were made and every response that was a server error (5xx)."""
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    run = FuzzRun(service, {"Authorization": f"Bearer {token}"}, max_examples)
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # the service's own OpenAPI document is broken
            raise AssertionError(f"{service.name}: an operation is invalid: {result.err()}")
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run.runner(operation, mode)()
            except Unsatisfiable:
                continue  # no invalid input exists for it (e.g. an operation without inputs)
    return run
