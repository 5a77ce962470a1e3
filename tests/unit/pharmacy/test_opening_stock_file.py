"""The opening-stock file read an entry at a time answers as the whole document parsed.

``load_opening_stock`` streams the YAML (a province's file loaded whole doubled the service's
peak memory); ``parse_opening_stock(yaml.safe_load(...))`` is the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from libs.platform.settings import REPO_ROOT
from services.pharmacy.service_layer.opening_stock import load_opening_stock, parse_opening_stock

SEED = REPO_ROOT / "infra" / "pharmacy" / "opening-stock.yaml"

ENTRY = """  - facility_id: F-{n}
    drug_code: D-1
    lot_number: L-{n}
    expires_in_days: 400
    quantity: {n}
    unit_cost: "2.50"
"""


def _reference(path: Path) -> list:
    return parse_opening_stock(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def test_the_seed_file_reads_the_same_streamed() -> None:
    streamed = load_opening_stock(SEED)
    assert streamed == _reference(SEED)
    assert len(streamed) >= 20


@pytest.mark.parametrize(
    "text",
    [
        "",
        "lots: []\n",
        "# nothing yet\n",
        "note: before\nlots:\n" + "".join(ENTRY.format(n=n) for n in (1, 2, 3)) + "after: {a: 1}\n",
        "lots:\n" + ENTRY.format(n=7) + "extra: [1, 2]\n",
        "lots: null\n",
    ],
)
def test_documents_of_any_shape_read_the_same(tmp_path: Path, text: str) -> None:
    path = tmp_path / "opening.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_opening_stock(path) == _reference(path)


def test_a_lot_given_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "opening.yaml"
    path.write_text("lots:\n" + ENTRY.format(n=1) * 2, encoding="utf-8")
    with pytest.raises(ValueError, match="appears twice"):
        load_opening_stock(path)


@pytest.mark.parametrize("text", ["- a\n- b\n", "lots: []\n---\nlots: []\n"])
def test_a_file_not_one_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "opening.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="expected a"):
        load_opening_stock(path)
