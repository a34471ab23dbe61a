"""Rules that either let a request through or refuse it with an API error."""

from __future__ import annotations

from collections.abc import Callable

from warung.errors import ApiError


def refusal(check: Callable[[], object]) -> ApiError | None:
    """The API error ``check`` refused with, or ``None`` when it let the request through."""
    try:
        check()
    except ApiError as error:
        return error
    return None
