"""Where the local stage is: the emulation of the running `make dev`.

`make dev` records where it listens in its data folder (`.local/runtime.json`, see
`warung_local.local_data`); the operator commands read it there, so they find `dev` on
whatever ports it runs. An explicit `--endpoint` (or `EMULATOR_PORT`) still wins.
"""

from __future__ import annotations

import os
from pathlib import Path

from warung_local.local_data import data_folder, locate_emulation

ROOT = Path(__file__).resolve().parents[2]


def local_endpoint(explicit: str | None = None) -> str:
    """The local emulation's URL: `explicit`, else `http://127.0.0.1:$EMULATOR_PORT` when it
    is set, else the running `make dev`'s. Raises `warung_local.local_data.NoLocalRuntime`
    (one line to show) when nothing answers there."""
    port = os.environ.get("EMULATOR_PORT")
    chosen = explicit or (f"http://127.0.0.1:{port}" if port else None)
    endpoint, _ = locate_emulation(data_folder(ROOT / "template.yaml"), chosen)
    return endpoint
