"""Turn each function's generated OpenAPI into one document for the whole API.

Powertools generates a document per resolver. :func:`merge` joins them and
:func:`finalise` makes them tell the truth about the shared edge: every error is
``application/problem+json`` with the :class:`warung.models.Problem` schema, and every
operation may answer 400, 413, 422 and 500 (plus whatever the route declared).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from warung.errors import ERROR_CODES

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
REQUEST_ID_REF = {"$ref": "#/components/headers/RequestId"}
COMMON_ERRORS: Mapping[str, str] = {
    "400": "Malformed request (invalid JSON, bad cursor).",
    "413": "Request body over 64 KiB.",
    "415": "The body (or the `Content-Type` of a request that has none) is not `application/json`.",
    "422": "The request does not match the contract (types, ranges, unknown body fields or "
    "query parameters).",
    "500": "Unexpected failure; quote `request_id` when reporting it.",
}
_POWERTOOLS_VALIDATION_SCHEMAS = (
    "HTTPValidationError",
    "ValidationError",
    "ResponseValidationError",
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def merge(documents: Iterable[Mapping[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    """One document from several; a path+method defined twice is an error."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Warung: a multi-merchant ordering marketplace API. "
            "Money is an integer number of rupiah (IDR); times are RFC 3339 UTC.",
        },
        "paths": {},
        "components": {"schemas": {}},
    }
    tags: dict[str, dict[str, Any]] = {}
    for document in documents:
        for path, operations in document.get("paths", {}).items():
            target = merged["paths"].setdefault(path, {})
            for method, operation in operations.items():
                if method in target:
                    raise ValueError(f"{method.upper()} {path} is defined by two functions")
                target[method] = copy.deepcopy(operation)
        for section, entries in document.get("components", {}).items():
            into = merged["components"].setdefault(section, {})
            for name, schema in entries.items():
                if name in into and into[name] != schema:
                    raise ValueError(f"components.{section}.{name} differs between functions")
                into[name] = copy.deepcopy(schema)
        for tag in document.get("tags", []) or []:
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = sorted(tags.values(), key=lambda tag: tag["name"])
    return finalise(merged)


def finalise(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the shared error responses on every operation, as problem+json."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas["FieldProblem"] = {
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    }
    schemas["Problem"] = {
        "type": "object",
        "description": "An error (RFC 9457 problem details) with Warung's stable `code`.",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string", "enum": list(ERROR_CODES)},
            "detail": {"type": ["string", "null"]},
            "request_id": {"type": ["string", "null"]},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"}},
        },
    }
    document["components"].setdefault("headers", {})["RequestId"] = {
        "description": "The request id; quote it when reporting a problem.",
        "schema": {"type": "string"},
    }
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                # What a route says a shared status means for it comes first.
                said = _declared_description(responses.get(status))
                responses[status] = _problem_response(
                    f"{said} Also: {description}" if said else description
                )
            for status, response in list(responses.items()):
                if str(status) == "204":
                    response.pop("content", None)  # no body, no media type
                if str(status).startswith(("4", "5")):
                    responses[status] = _problem_response(response.get("description", "Error"))
                responses[status].setdefault("headers", {})["X-Request-Id"] = REQUEST_ID_REF
    return document


def _declared_description(response: Mapping[str, Any] | None) -> str | None:
    """The route's own description of a response, if it gave one (Powertools' generated
    422, which names its ``HTTPValidationError`` schema, is not the route's)."""
    if not response:
        return None
    schemas = [media.get("schema", {}) for media in (response.get("content") or {}).values()]
    if any(
        schema.get("$ref", "").endswith(f"/{name}")
        for schema in schemas
        for name in _POWERTOOLS_VALIDATION_SCHEMAS
    ):
        return None
    description = response.get("description")
    return str(description) if description else None


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
