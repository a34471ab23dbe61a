"""Install Swagger UI's two files next to the platform function (build step, not runtime).

Swagger UI is not committed: its pinned distribution is taken from PyPI with pip (a
package that ships the official swagger-ui-dist files) and only the two files the docs
page loads are kept. Run by `make setup` for the local runtime and by `sam build`
(functions/platform/Makefile) for deployment.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DISTRIBUTION = "drf-spectacular-sidecar==2026.10.1"
WANTED = ("swagger-ui-bundle.js", "swagger-ui.css")
PREFIX = "drf_spectacular_sidecar/static/drf_spectacular_sidecar/swagger-ui-dist/"


def install(target: Path) -> None:
    """Put the Swagger UI files into ``target`` unless they are already there."""
    if all((target / name).is_file() for name in WANTED):
        return
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                scratch,
                DISTRIBUTION,
            ],
            check=True,
        )
        wheel = next(Path(scratch).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in WANTED:
                (target / name).write_bytes(archive.read(PREFIX + name))


if __name__ == "__main__":
    install(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "swagger_ui")
