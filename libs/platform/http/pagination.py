"""Paginated lists for every admin API: ``?limit=&offset=`` with a cap, and one response shape.

@router.get("/things")
def things(page: PageDep, ...) -> Page[ThingView]:
    rows = session.scalars(query.limit(page.limit).offset(page.offset))
    return page.of([...], total=count)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

__all__ = ["MAX_PAGE_SIZE", "Page", "PageDep", "PageRequest"]

T = TypeVar("T")

#: No list endpoint returns more than this many items at once.
MAX_PAGE_SIZE = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageRequest:
    limit: int
    offset: int

    def of(self, items: list[T], *, total: int) -> Page[T]:
        return Page[T](items=items, total=total, limit=self.limit, offset=self.offset)


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


PageDep = Annotated[PageRequest, Depends(page_request)]
