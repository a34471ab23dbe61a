"""The `.pth` file `make setup` writes: the tools' import roots, absolute."""

from __future__ import annotations

from pathlib import Path

import venv_paths

REPO = Path(__file__).resolve().parents[3]


def test_the_pth_file_names_tools_and_the_layer_as_absolute_folders() -> None:
    lines = venv_paths.pth_text(REPO).splitlines()

    assert lines == [str(REPO / "tools"), str(REPO / "layers" / "common")]
    assert all(Path(line).is_dir() for line in lines)


def test_install_writes_it_into_the_given_site_packages(tmp_path: Path) -> None:
    written = venv_paths.install(tmp_path, REPO)

    assert written == tmp_path / "warung-project.pth"
    assert written.read_text() == venv_paths.pth_text(REPO)
