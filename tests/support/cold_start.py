"""A function's module imported afresh, as a new Lambda execution environment would."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def cold_start(module: str) -> ModuleType:
    """Import ``module`` (e.g. ``worker.app``) and its package anew, in today's ``os.environ``.

    What the package's modules read at import (settings, clients, the handler's wrapping)
    comes from the environment a test has just set. The copies imported before are put back
    afterwards, so other tests keep theirs; the fresh one lives on through what is returned.
    """
    package = module.split(".", 1)[0]

    def ours(name: str) -> bool:
        return name == package or name.startswith(f"{package}.")

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if ours(name)}
    try:
        return importlib.import_module(module)
    finally:
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
