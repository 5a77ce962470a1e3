"""Reactions that cross services, with every process real: a downward referral with two
medications makes the pharmacy reserve them at the receiving clinic and request from the
central pharmacy what the clinic's shelf lacks.
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.kafka import wait_for
from tests.support.referral import (
    CLINIC,
    HOSPITAL,
    PATIENT_DATA_KEYS,
    PSEUDONYM_SECRET,
    downward,
    resident_id,
)

ENV = {"PSEUDONYM_SECRET": PSEUDONYM_SECRET, "REFERRAL_PATIENT_DATA_KEYS": PATIENT_DATA_KEYS}
#: Amlodipine is on the shelf at the township centre (infra/pharmacy/opening-stock.yaml);
#: atorvastatin is not, so the central pharmacy (the lead hospital) must send it.
ON_THE_SHELF, NOT_THERE = "QSY-W011", "QSY-W017"


def created(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code == 422 and response.json()["error"] in (
        "unknown_facility",
        "unknown_drug",
    ):
        return None  # the referral service's copies of the organisation and formulary lag
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_downward_referral_with_two_medications_is_stocked_at_the_clinic(suite: Suite) -> None:
    running = suite.start("administration", "staffing", "pharmacy", "referral", env=ENV)
    pharmacy, referral = running["pharmacy"], running["referral"]
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:  # opening stock books once known
        wait_for(
            lambda: (
                centre.get(f"/stock/{CLINIC}/drugs/{ON_THE_SHELF}").json().get("available", 0) >= 50
            ),
            what="the clinic's opening stock",
        )
    body = downward("欧阳建国", resident_id(), ON_THE_SHELF, NOT_THERE)  # 2 and 3 packs
    with referral.client(Role.CLINIC_STAFF, HOSPITAL) as hospital:
        rid = wait_for(
            lambda: created(hospital.post("/referrals", json=body)),
            what="the referral service to know the formulary",
        )["referral_id"]
    with referral.client(Role.CLINIC_STAFF, CLINIC) as clinic:
        accepted = clinic.post(f"/referrals/{rid}/accept")
        assert accepted.status_code == 200, accepted.text

    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:

        def reserved() -> list[dict[str, Any]]:
            items = centre.get("/reservations", params={"facility_id": CLINIC}).json()["items"]
            return [r for r in items if r["referral_id"] == rid]

        # Both are held for the patient: what is on the shelf now, and what is on its way.
        found = wait_for(lambda: len(reserved()) == 2 and reserved(), what="the reservations")
        assert sorted((r["drug_code"], r["quantity"]) for r in found) == [
            (ON_THE_SHELF, 2),
            (NOT_THERE, 3),
        ]

        def requested() -> list[dict[str, Any]]:
            items = centre.get("/transfers", params={"to_facility_id": CLINIC}).json()["items"]
            return [t for t in items if t.get("referral_id") == rid]

        (transfer,) = wait_for(requested, what="a transfer request for what the clinic lacks")
        assert transfer["from_facility_id"] == HOSPITAL  # the community's central pharmacy
        assert transfer["reason"] == "referral_medication"
        lines = centre.get(f"/transfers/{transfer['transfer_id']}").json()["lines"]
        assert [(line["drug_code"], line["quantity_requested"]) for line in lines] == [
            (NOT_THERE, 3)
        ]
