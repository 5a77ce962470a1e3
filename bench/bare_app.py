"""The yardstick for admin HTTP reads: a FastAPI endpoint with nothing behind it, answering
the same path and a body shaped like the pharmacy's stock query. Served by uvicorn as the
services are (``python -m uvicorn bench.bare_app:app``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.get("/stock/{facility_id}/drugs/{drug_code}")
def stock(facility_id: str, drug_code: str) -> dict[str, Any]:
    return {
        "facility_id": facility_id,
        "drug_code": drug_code,
        "on_hand": 1000000,
        "reserved": 0,
        "available": 1000000,
        "lots": [
            {"lot_number": "BENCH", "expiry_date": "2028-11-01", "quantity": 1000000},
        ],
    }
