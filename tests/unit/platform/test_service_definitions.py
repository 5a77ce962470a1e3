"""Services are found by their declaration (pyproject entry points), each in one shape."""

from __future__ import annotations

from pathlib import Path

from libs.events.access import service_handlers
from libs.launcher.config import SERVICES
from libs.platform.service import definitions
from libs.platform.settings import REPO_ROOT


def test_every_service_directory_is_declared_once_with_its_own_port() -> None:
    declared = definitions()
    on_disk = {p.parent.name for p in Path(REPO_ROOT, "services").glob("*/bootstrap.py")}
    assert set(declared) == on_disk
    ports = [d.port for d in declared.values()]
    assert len(set(ports)) == len(ports)
    assert all(d.settings().http_port == d.port for d in declared.values())


def test_the_tools_in_libs_see_the_declared_services() -> None:
    declared = definitions()
    assert {name: d.port for name, d in declared.items()} == SERVICES
    assert set(service_handlers()) == set(declared)


def test_no_module_in_libs_imports_a_service() -> None:
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in Path(REPO_ROOT, "libs").rglob("*.py")
        if "import services" in (text := path.read_text(encoding="utf-8"))
        or "from services" in text
        or 'f"services.' in text
    ]
    assert offenders == []
