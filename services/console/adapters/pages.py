"""The console's pages: Jinja2 templates (``services/console/templates``), escaped by
default, with the county's clock and names for codes. Every page carries the security
headers a browser needs to refuse what the page did not ask for (no inline script, no
frame, no other origin)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from libs.platform.clock import CountyClock

__all__ = ["SECURITY_HEADERS", "Pages"]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Pages:
    def __init__(self, clock: CountyClock) -> None:
        self.clock = clock
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self.local

    def local(self, value: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """An instant on the county's clock (the services answer in UTC)."""
        if value is None or value == "":
            return ""
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        return self.clock.local(instant).strftime(pattern)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
