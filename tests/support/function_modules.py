"""Import a function's own modules (``domain``, ``service``, ...) without clashing with
another function's modules of the same names, as each Lambda function has its own."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]


def load_function_modules(function_dir: str, *names: str) -> SimpleNamespace:
    """The modules ``names`` of ``functions/<function_dir>``, imported from that folder.

    Every top-level name of the folder is taken out of ``sys.modules`` while they load and
    put back afterwards, so the modules keep references to their own siblings and other
    tests keep theirs. Lazy imports of sibling modules inside functions would not resolve
    this way: the functions import their siblings at module level.
    """
    folder = ROOT / "functions" / function_dir
    own = {path.stem for path in folder.glob("*.py")}

    def is_own(module_name: str) -> bool:
        return module_name.split(".", 1)[0] in own

    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if is_own(k)}
    sys.path.insert(0, str(folder))
    try:
        loaded = {name: importlib.import_module(name) for name in names}
    finally:
        for name in [k for k in sys.modules if is_own(k)]:
            del sys.modules[name]
        sys.modules.update(saved)
        sys.path.remove(str(folder))
    return SimpleNamespace(**loaded)
