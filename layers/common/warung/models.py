"""Pydantic building blocks for request and response bodies and list parameters."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are a 422, never silently stored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(BaseModel, Generic[T]):
    """One page of a list: ``next_cursor`` is ``null`` on the last page."""

    items: list[T]
    next_cursor: str | None = None


class FieldProblem(BaseModel):
    """One invalid input field."""

    field: str
    message: str


class Problem(BaseModel):
    """An error, as ``application/problem+json`` (RFC 9457) with Warung's ``code``."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT})."),
]
Cursor = Annotated[
    str | None,
    Query(max_length=2048, description="Opaque cursor from the previous page's `next_cursor`."),
]
PositiveRupiah = Annotated[int, Field(ge=0, description="An amount in whole rupiah (IDR).")]
