"""Every production function fits on one screen and every file does one job.

No function over 60 lines and no module over 400, except with a written reason: a
migration's ``upgrade``/``downgrade`` (the schema as released, never edited afterwards) and a
module whose docstring says why it is longer ("Longer than 400 lines because ...").
"""

from __future__ import annotations

import ast
from pathlib import Path

from libs.platform.settings import REPO_ROOT

PRODUCTION = ("libs", "services", "simulator", "bench")
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400
REASON = "Longer than 400 lines because"


def _modules() -> list[Path]:
    return sorted(p for root in PRODUCTION for p in (REPO_ROOT / root).rglob("*.py"))


def _is_migration(path: Path) -> bool:
    return "migrations" in path.relative_to(REPO_ROOT).parts


def test_no_function_is_longer_than_a_screen() -> None:
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES and not _is_migration(path):
                    long.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name} {size}")
    assert not long, "\n".join(long)


def test_no_module_is_longer_than_its_job_without_a_reason() -> None:
    long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_FILE_LINES and REASON not in docstring:
            long.append(f"{path.relative_to(REPO_ROOT)} {lines} lines")
    assert not long, "\n".join(long)


def test_the_checks_see_the_code() -> None:
    """The walk finds the services' modules (a wrong root would pass every check)."""
    names = {p.relative_to(REPO_ROOT).as_posix() for p in _modules()}
    assert "libs/platform/worker.py" in names
    assert "services/pharmacy/domain/items.py" in names
