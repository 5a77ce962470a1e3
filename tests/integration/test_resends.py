"""Hospital systems resend: every ingestion type, sent again under new event ids, moves no
service's state, indicator or outbox — for every service that consumes it, through its real
handlers and unit of work, on both databases.

Each consuming service is built from its declaration (libs/platform/service.py), holds the
seed county's organisation as staffing publishes it (its real events) and the seed
formulary and opening stock, applies the fact once, and then the same fact twice more under
new event ids (once alone, once with its first copy in the same batch). Every table of the
service's database but the delivery bookkeeping (which facts and events it has seen) must
be as after the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from libs.events import CloudEvent, Payload
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    PrescriptionIssuedV2,
    PrescriptionLine,
    ResultReported,
    VisitRecorded,
)
from libs.events.catalogue.values import (
    AgeBand,
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    TestKind,
    VisitType,
)
from libs.events.envelope import utc_now
from libs.events.provenance import EDGE_PRODUCER
from libs.events.registry import registry
from libs.platform.service import definitions
from libs.platform.worker import ServiceProcess
from tests.support.apps import holding_the_county, in_process, organisation_events
from tests.support.harness import HandlerHarness, event_of

#: Delivery bookkeeping: what a consumer has seen, not what it did.
BOOKKEEPING = {"processed_events", "processed_facts", "alembic_version"}
CLINIC = "QS-T01"  # a township centre of the seed county, stocked by the opening stock


def ingestion_samples() -> dict[str, Payload]:
    """One fact of every type the hospital systems send, valid against the seed data."""
    when = utc_now() - timedelta(hours=1)
    return {
        "ingestion.visit.recorded.v1": VisitRecorded(
            visit_id="V-RESEND-1",
            facility_id=CLINIC,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym="a1" * 32,
            insurance_type=InsuranceType.URBAN_RURAL_RESIDENT,
            visit_type=VisitType.OUTPATIENT,
            diagnosis_codes=["I10"],
            total_amount=Decimal("86.00"),
            eligible_amount=Decimal("60.00"),
            occurred_at=when,
        ),
        "ingestion.prescription.issued.v1": PrescriptionIssued(
            prescription_id="RX-RESEND-1",
            visit_id="V-RESEND-1",
            facility_id=CLINIC,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym="a1" * 32,
            category=PrescriptionCategory.WESTERN,
            lines=[PrescriptionLine(line_no=1, drug_code="QSY-W011", quantity=2)],
            total_amount=Decimal("7.60"),
            issued_at=when,
        ),
        "ingestion.prescription.issued.v2": PrescriptionIssuedV2(
            prescription_id="RX-RESEND-2",
            visit_id="V-RESEND-1",
            facility_id=CLINIC,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym="a1" * 32,
            prescriber_id="S-T01-001",
            category=PrescriptionCategory.WESTERN,
            lines=[PrescriptionLine(line_no=1, drug_code="QSY-W011", quantity=1)],
            total_amount=Decimal("3.80"),
            issued_at=when,
            patient_age_band=AgeBand.ELDERLY,
            pregnant=None,
        ),
        "ingestion.order.placed.v1": OrderPlaced(
            order_id="OR-RESEND-1",
            visit_id="V-RESEND-1",
            facility_id=CLINIC,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym="a1" * 32,
            test_kind=TestKind.LABORATORY,
            test_code="CBC",
            ordered_at=when,
        ),
        "ingestion.result.reported.v1": ResultReported(
            result_id="RE-RESEND-1",
            order_id="OR-RESEND-1",
            facility_id=CLINIC,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym="a1" * 32,
            test_kind=TestKind.LABORATORY,
            test_code="CBC",
            observation_count=3,
            reported_at=when,
        ),
    }


def test_every_ingestion_type_has_a_sample_and_an_identity() -> None:
    sent_by_his = {spec.type for spec in registry if spec.producer == EDGE_PRODUCER}
    assert sent_by_his == set(ingestion_samples())
    assert all(registry.by_type(t).identity for t in sent_by_his)


def consumers() -> list[tuple[str, str]]:
    return [
        (type_name, name)
        for type_name in sorted(ingestion_samples())
        for name, definition in definitions().items()
        if definition.handlers.get(type_name)
    ]


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> list[CloudEvent[Any]]:
    return organisation_events(tmp_path_factory.mktemp("staffing"))


@pytest.fixture
def consumer(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    tmp_path: Path,
    organisation: list[CloudEvent[Any]],
) -> Iterator[tuple[ServiceProcess, HandlerHarness]]:
    """The service named by the test's parameter, holding the seed county and its stock."""
    name = request.param
    process = in_process(name, make_database(name), tmp_path / "data")
    harness = holding_the_county(process, organisation)
    yield process, harness
    harness.close()
    process.database.dispose()


def state(harness: HandlerHarness) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table but the bookkeeping, as text, in a stable order."""
    tables = MetaData()
    with harness.database.engine.connect() as connection:
        tables.reflect(connection)
        return {
            name: sorted(tuple(str(v) for v in row) for row in connection.execute(select(table)))
            for name, table in sorted(tables.tables.items())
            if name not in BOOKKEEPING
        }


@pytest.mark.parametrize(
    ("type_name", "consumer"),
    consumers(),
    indirect=["consumer"],
    ids=[f"{t.split('.')[1]}-{n}" for t, n in consumers()],
)
def test_a_fact_resent_under_new_event_ids_moves_nothing(
    type_name: str, consumer: tuple[ServiceProcess, HandlerHarness]
) -> None:
    _, harness = consumer
    fact = ingestion_samples()[type_name]
    first = event_of(fact)
    assert harness.apply(first).applied == [first.id], harness.dead_letters()
    after_first = state(harness)

    alone, beside = event_of(fact), event_of(fact)
    assert harness.apply(alone).duplicates == [alone.id]
    assert sorted(harness.apply(first, beside).duplicates) == sorted([first.id, beside.id])
    assert state(harness) == after_first


V1, V2 = "ingestion.prescription.issued.v1", "ingestion.prescription.issued.v2"


def in_both_versions(prescription_id: str) -> tuple[PrescriptionIssued, PrescriptionIssuedV2]:
    """One prescription as an older interface engine sends it and as a newer one does."""
    v2 = ingestion_samples()[V2].model_copy(update={"prescription_id": prescription_id})
    assert isinstance(v2, PrescriptionIssuedV2)
    v1 = PrescriptionIssued.model_validate(
        v2.model_dump(include=set(PrescriptionIssued.model_fields))
    )
    return v1, v2


@pytest.mark.parametrize(
    "consumer",
    [name for type_name, name in consumers() if type_name == V1],
    indirect=True,
)
def test_a_prescription_sent_as_v1_and_as_v2_is_one_fact(
    consumer: tuple[ServiceProcess, HandlerHarness],
) -> None:
    """The catalogue's versioning rule: .v2 is published beside .v1 while consumers move,
    so a consumer of both may get the same prescription twice, in either order."""
    _, harness = consumer
    for first, then in (in_both_versions("RX-BOTH-1"), in_both_versions("RX-BOTH-2")[::-1]):
        applied = event_of(first)
        assert harness.apply(applied).applied == [applied.id], harness.dead_letters()
        after_first = state(harness)
        again = event_of(then)
        result = harness.apply(again)
        assert result.duplicates == [again.id] and not result.dead_lettered
        assert state(harness) == after_first
