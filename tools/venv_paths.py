"""Put the project's import roots on the virtual environment's path (run by `make setup`).

    python tools/venv_paths.py install   # writes <site-packages>/warung-project.pth

A `.pth` file in site-packages adds each folder it names to `sys.path` at start-up, so
`.venv/bin/python -m warung_local env-file` (or `-m warung_ops.accounts`) works from any
shell without PYTHONPATH. A PYTHONPATH that is set (the Makefile sets one) still comes
first. The folders are absolute: a copy of the project elsewhere has a venv of its own.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORT_ROOTS = ("tools", "layers/common")  # what the tools import: warung_local, warung, ...
PTH_NAME = "warung-project.pth"


def pth_text(root: Path = ROOT) -> str:
    """The `.pth` file's content: one absolute folder per line."""
    return "".join(f"{(root / folder).resolve()}\n" for folder in IMPORT_ROOTS)


def install(site: Path | None = None, root: Path = ROOT) -> Path:
    """Write the `.pth` file into `site` (default: this interpreter's site-packages)."""
    target = (site or Path(sysconfig.get_paths()["purelib"])) / PTH_NAME
    target.write_text(pth_text(root), encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    if argv == ["install"]:
        print(f"installed {install()}")
        return 0
    print("usage: venv_paths.py install", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
