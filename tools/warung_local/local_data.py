"""The local data folder (`.local/` by default): what `dev` keeps there, and clearing it.

    <folder>/emulation.pickle   the emulation's tables, secrets and parameters
                                (written by `warung_local.persistence`)

Only the standard library here: `make reset` runs it without the virtual environment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

STATE_FILE = "emulation.pickle"


def clear(folder: Path) -> bool:
    """Delete the data folder and everything in it; whether there was one."""
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
