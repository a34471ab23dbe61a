#!/usr/bin/env python3
"""Write the layer's trimmed botocore service models (layers/common/warung/botocore_models).

A function that calls one operation of a big AWS service need not load the whole model of
that service on its first request: botocore reads ``<service>/<api version>/service-2.json``
from the first folder of its search path that has it, and the layer's clients put
``warung/botocore_models`` first (warung.clients). Each model written here is the installed
botocore's, cut down to the operations of ``TRIMMED`` and the shapes they reach.

    .venv/bin/python tools/botocore_models.py          # write them
    .venv/bin/python tools/botocore_models.py --check  # exit 1 if one differs

Add an operation here when a function starts calling it (a client of a trimmed model has
no method for the others), then run it again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "layers" / "common" / "warung" / "botocore_models"

# service -> the operations the functions call on it
TRIMMED: dict[str, tuple[str, ...]] = {
    "ssm": ("GetParameter",),  # warung.secrets.get_parameter: the JWK Set
}


def trimmed_model(model: dict[str, Any], operations: tuple[str, ...]) -> dict[str, Any]:
    """``model`` with ``operations`` only, and the shapes their input, output and errors reach."""
    shapes = model["shapes"]
    wanted: list[str] = []
    for name in operations:
        operation = model["operations"][name]
        wanted += [operation[part]["shape"] for part in ("input", "output") if part in operation]
        wanted += [error["shape"] for error in operation.get("errors", [])]
    kept: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in kept:
            continue
        kept.add(name)
        shape = shapes[name]
        wanted += [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]
        wanted += [member["shape"] for member in shape.get("members", {}).values()]
    trimmed = {key: value for key, value in model.items() if key not in ("operations", "shapes")}
    trimmed["operations"] = {name: model["operations"][name] for name in operations}
    trimmed["shapes"] = {name: shapes[name] for name in sorted(kept)}
    plain: dict[str, Any] = _without_documentation(trimmed)
    return plain


def _without_documentation(value: Any) -> Any:
    """The model without its prose (half its size): botocore reads it for docstrings only."""
    if isinstance(value, dict):
        return {k: _without_documentation(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [_without_documentation(v) for v in value]
    return value


def rendered_models() -> dict[Path, str]:
    """Each trimmed model's path and text, from the installed botocore."""
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    files: dict[Path, str] = {}
    for service, operations in TRIMMED.items():
        version = loader.determine_latest_version(service, "service-2")
        model = loader.load_service_model(service, "service-2", version)
        text = json.dumps(trimmed_model(model, operations), indent=1, sort_keys=True) + "\n"
        files[MODELS / service / version / "service-2.json"] = text
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    differ = []
    for path, text in rendered_models().items():
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                differ.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in differ:
        print(f"{path.relative_to(ROOT)} differs: run tools/botocore_models.py", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
