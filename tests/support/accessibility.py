"""Accessibility checked by a tool: axe-core (Deque's engine, the one browsers' own audits
use), fetched once from the npm registry into ``.venv/downloads`` and checked against its
published integrity, then run inside the page by the test's browser."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from libs.platform.settings import REPO_ROOT

__all__ = ["axe_violations"]

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = (
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
CACHE = REPO_ROOT / ".venv" / "downloads" / f"axe-core-{VERSION}.min.js"
#: WCAG 2.1 A and AA: labels, names, contrast, language, landmarks, headings.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    if not CACHE.exists():
        with urllib.request.urlopen(TARBALL, timeout=60) as answer:
            packed = answer.read()
        digest = base64.b64encode(hashlib.sha512(packed).digest()).decode()
        assert digest == INTEGRITY, f"axe-core {VERSION} does not match its published integrity"
        with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            CACHE.parent.mkdir(parents=True, exist_ok=True)
            CACHE.write_bytes(member.read())
    return Path(CACHE).read_text(encoding="utf-8")


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """What axe finds against WCAG 2.1 A/AA on the browser's current page: each violation's
    rule, impact and the elements it names."""
    driver.execute_script(axe_source())
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))));",
        TAGS,
    )
    return found
