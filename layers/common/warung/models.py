"""Pydantic building blocks for request and response bodies and list parameters."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from dataclasses import fields
from typing import Annotated, Any, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from warung.text import one_line

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def view_of(model: type[M], record: Any, **overrides: Any) -> M:
    """The response ``model`` of a record (a dataclass): every field of the record under its
    own name, then ``overrides`` for the fields the API names or shapes differently.

    Response models ignore fields they do not declare (a record's internal ones), and a field
    the model declares but neither the record nor ``overrides`` gives is a validation error
    when the view is made: a new field is added to the record and the model, not to a copy.
    """
    values = {each.name: getattr(record, each.name) for each in fields(record)}
    return model.model_validate(values | overrides)


class ApiModel(BaseModel):
    """Base of every request and response body. Its validator and serializer are built the
    first time a request uses the model, not when the module is imported: a cold start pays
    for its own route's models only (docs/decisions/0033-build-on-first-use.md)."""

    model_config = ConfigDict(defer_build=True)


class RequestModel(ApiModel):
    """Base of every request body: unknown fields are a 422, never silently stored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(ApiModel, Generic[T]):
    """One page of a list: ``next_cursor`` is ``null`` on the last page."""

    items: list[T]
    next_cursor: str | None = None


class FieldProblem(ApiModel):
    """One invalid input field."""

    field: str
    message: str


class Problem(ApiModel):
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
    Query(
        max_length=2048,
        description="Opaque cursor from the previous page's `next_cursor`: encrypted, and "
        "valid only for the same list (same filters, same caller); a changed or foreign "
        "cursor is a 400.",
    ),
]
PositiveRupiah = Annotated[int, Field(ge=0, description="An amount in whole rupiah (IDR).")]

# Text a person types that other people read, in e-mails too (names, notes, reasons): one
# line, no control characters (see ``warung.text.one_line``); a 422 otherwise.
OneLineText = Annotated[
    str,
    AfterValidator(one_line),
    Field(description="One line: no line breaks, tabs or other control characters."),
]
