"""What a page needs from the server: its services, and pages of long lists.

Pages call the same service objects the REST API calls, in process, so Studio
can never disagree with the API about what exists or what is valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import Request

from sageforge.api._state import Platform

T = TypeVar("T")

PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Services:
    """The platform's services, by the names pages use."""

    platform: Platform

    @property
    def training(self) -> Any:
        return self.platform.training

    @property
    def processing(self) -> Any:
        return self.platform.processing

    @property
    def datasets(self) -> Any:
        """The DatasetService (`sageforge.data`)."""
        return self.platform.services["data"]["datasets"]

    @property
    def flows(self) -> Any:
        """The FlowService (`sageforge.data`)."""
        return self.platform.services["data"]["flows"]

    @property
    def tune(self) -> Any:
        """The TuningJobService."""
        return self.platform.services["tune"]

    @property
    def deploy(self) -> Any:
        """DeployServices (models, endpoint configs, endpoints, transform)."""
        return self.platform.services["deploy"]

    @property
    def db(self) -> Any:
        return self.platform.db

    @property
    def store(self) -> Any:
        return self.platform.store


def services(request: Request) -> Services:
    """The running server's services (usable as a FastAPI dependency)."""
    return Services(request.app.state.platform)


@dataclass
class Page(Generic[T]):
    """One page of a longer list, and how to link to the others."""

    items: list[T]
    page: int
    per_page: int
    total: int
    query: dict[str, str] = field(default_factory=dict)
    """The request's other query parameters, kept by `url` (filters survive paging)."""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """1-based index of the first item shown (0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def url(self, n: int) -> str:
        return "?" + urlencode({**self.query, "page": str(n)})


Fetch = Callable[[int, int], tuple[Sequence[T], int]]
"""`(offset, limit) -> (items, total)`: a service call that pages in its own store."""


def paginate(
    source: Sequence[T] | sa.Select[Any] | Fetch[T],
    page: int | str | None,
    per_page: int = PER_PAGE,
    *,
    request: Request | None = None,
    db: Any = None,
) -> Page[T]:
    """Cut `source` to page `page` (1-based; out-of-range pages clamp, never fail).

    `source` is a list, a SQLAlchemy select (counted and cut in SQL; pass `db`),
    or a `Fetch` callable. With `request`, page links keep its other query
    parameters.
    """
    try:
        n = max(1, int(page or 1))
    except (TypeError, ValueError):
        n = 1
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    query = {k: v for k, v in request.query_params.items() if k != "page"} if request else {}

    def fetch(offset: int, limit: int) -> tuple[Sequence[T], int]:
        if isinstance(source, sa.Select):
            if db is None:
                raise TypeError("paginate(select, ...) needs db=")
            with db.session() as s:
                total = s.scalar(sa.select(sa.func.count()).select_from(source.subquery())) or 0
                rows = list(s.scalars(source.offset(offset).limit(limit)))
                s.expunge_all()
            return rows, int(total)
        if callable(source):
            return source(offset, limit)
        return source[offset : offset + limit], len(source)

    items, total = fetch((n - 1) * per_page, per_page)
    pages = max(1, math.ceil(total / per_page))
    if n > pages:  # a stale link past the end shows the last page
        n = pages
        items, total = fetch((n - 1) * per_page, per_page)
    return Page(list(items), n, per_page, total, query)
