"""Local stand-ins of outside services, started with `dev` when the parameters call for them.

A project lists them in `companions` of `[tool.warung_local]` as "module:function". Each
function is called with the run's template parameters and the local API's base URL, before
the template is loaded, and returns None (not wanted with these parameters) or a
:class:`Companion`: its own parameters (e.g. the stand-in's address) join the run's, it is
told the provisioned template and the emulation's endpoint, and it is stopped with `dev`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol


class Companion(Protocol):
    """A running stand-in."""

    parameters: Mapping[str, str]
    line: str  # what the startup listing says of it

    def provisioned(self, template: Any, endpoint_url: str) -> None:
        """The stack exists (its secrets can be read)."""

    def stop(self) -> None:
        """Stop serving (idempotent)."""


def start_companions(
    specs: Sequence[str], parameters: Mapping[str, str], api_url: str
) -> list[Companion]:
    """Start the companions that these parameters call for."""
    started: list[Companion] = []
    try:
        for spec in specs:
            module, _, name = spec.partition(":")
            factory: Callable[[Mapping[str, str], str], Companion | None] = getattr(
                importlib.import_module(module), name
            )
            companion = factory(parameters, api_url)
            if companion is not None:
                started.append(companion)
    except BaseException:
        stop_companions(started)
        raise
    return started


def stop_companions(companions: Sequence[Companion]) -> None:
    """Stop them all, last started first."""
    for companion in reversed(companions):
        companion.stop()
