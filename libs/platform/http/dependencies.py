"""FastAPI dependencies shared by every service's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.events.unit_of_work import UnitOfWork

__all__ = ["UnitOfWorkDep", "unit_of_work"]

CORRELATION_HEADER = "x-correlation-id"


async def unit_of_work(request: Request) -> UnitOfWork:
    """A fresh, unopened unit of work; the endpoint opens it and commits explicitly.

    ``async`` although it does no I/O: a sync dependency costs a thread-pool hop per request.

    Events published through it are correlated to the caller's ``X-Correlation-ID`` when one
    is sent, so a clinic's request can be followed through every service it touches.
    """
    uow: UnitOfWork = request.app.state.uow_factory()
    correlation = request.headers.get(CORRELATION_HEADER)
    if correlation and 0 < len(correlation) <= 64:
        uow.correlation_id = correlation
    return uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
