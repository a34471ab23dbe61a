#!/usr/bin/env python3
"""Write the layer's botocore data directory (layers/common/warung/botocore_models).

The layer's botocore session reads its data from that directory only (warung.clients), not
from botocore's own: botocore lists every service it knows (~450 directories) before it
creates the first client, and reads the endpoint data of every service in every partition.
The directory holds, from the installed botocore:

- for each service of ``OPERATIONS``: its model cut down to those operations and the shapes
  they reach, without documentation strings, and its endpoint rule set as it is;
- ``endpoints.json`` with those services only (every partition's own data kept), and
  ``partitions.json``, ``_retry.json`` and ``sdk-default-configuration.json`` as they are:
  what creating a client and sending a request load besides the service's own files.

    .venv/bin/python tools/botocore_models.py          # write it
    .venv/bin/python tools/botocore_models.py --check  # exit 1 if it differs

A function that calls another operation or service: add it to ``OPERATIONS`` and run this
again (a client has no method for an operation its model lacks; a service missing here
cannot be created: unit tests find both). After a botocore upgrade, run it again too: a
unit test fails until the directory is what the installed botocore gives.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "layers" / "common" / "warung" / "botocore_models"

# service -> the operations the functions call on the layer's client of it
OPERATIONS: dict[str, tuple[str, ...]] = {
    # warung.dynamo, the repositories, and Powertools idempotency (given the layer's client)
    "dynamodb": (
        "BatchGetItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "TransactWriteItems",
        "UpdateItem",
    ),
    "lambda": ("Invoke",),  # checkout opens the payment page through the payments function
    "s3": ("PutObject",),  # the audit archive
    "secretsmanager": ("GetSecretValue",),  # warung.secrets: the signing key, Midtrans keys
    "sesv2": ("SendEmail",),  # the worker's e-mail job
    # the outbox relay and the worker send; the admin's dead-letter redrive
    "sqs": (
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "ListMessageMoveTasks",
        "SendMessage",
        "StartMessageMoveTask",
    ),
    "ssm": ("GetParameter",),  # warung.secrets.get_parameter: the JWK Set
}

# Read by botocore besides the services' files (endpoints.json is trimmed to our services)
SHARED = ("partitions", "_retry", "sdk-default-configuration")
VERSION_FILE = "botocore-version.txt"


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
    """The model without its prose (half its size): botocore reads it for docstrings only.
    Only text is dropped (a member that happens to be called ``documentation`` stays), and
    client context parameters keep theirs: botocore requires it there."""
    if isinstance(value, dict):
        return {
            k: v if k == "clientContextParams" else _without_documentation(v)
            for k, v in value.items()
            if not (k == "documentation" and isinstance(v, str))
        }
    if isinstance(value, list):
        return [_without_documentation(v) for v in value]
    return value


def trimmed_endpoints(endpoints: dict[str, Any], prefixes: set[str]) -> dict[str, Any]:
    """The legacy endpoint data with the services of ``prefixes`` only, in every partition."""
    trimmed = dict(endpoints)
    trimmed["partitions"] = [
        {
            **partition,
            "services": {
                name: service for name, service in partition["services"].items() if name in prefixes
            },
        }
        for partition in endpoints["partitions"]
    ]
    return trimmed


def _text(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def rendered_models(target: Path = MODELS) -> dict[Path, str]:
    """Each file of the data directory (under ``target``) and its text, from the installed
    botocore."""
    import botocore
    import botocore.session
    from botocore.model import ServiceModel

    loader = botocore.session.get_session().get_component("data_loader")
    files: dict[Path, str] = {}
    prefixes: set[str] = set()
    for service, operations in OPERATIONS.items():
        version = loader.determine_latest_version(service, "service-2")
        model = loader.load_service_model(service, "service-2", version)  # with its extras
        prefixes.add(ServiceModel(model, service).endpoint_prefix)
        folder = target / service / version
        files[folder / "service-2.json"] = _text(trimmed_model(model, operations))
        rules = loader.load_service_model(service, "endpoint-rule-set-1", version)
        files[folder / "endpoint-rule-set-1.json"] = _text(rules)
    files[target / "endpoints.json"] = _text(
        trimmed_endpoints(loader.load_data("endpoints"), prefixes)
    )
    for name in SHARED:
        files[target / f"{name}.json"] = _text(loader.load_data(name))
    files[target / VERSION_FILE] = f"{botocore.__version__}\n"
    return files


def write(target: Path = MODELS) -> list[Path]:
    """Write the data directory under ``target`` afresh (nothing else is left in it)."""
    files = rendered_models(target)
    if target.exists():
        shutil.rmtree(target)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def differences(target: Path = MODELS) -> list[Path]:
    """The files under ``target`` that are missing, differ, or should not be there."""
    files = rendered_models(target)
    present = {path for path in target.rglob("*") if path.is_file()} if target.exists() else set()
    differ = [
        path
        for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    return sorted(differ + [path for path in present if path not in files])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if not args.check:
        for path in write():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    differ = differences()
    for path in differ:
        print(f"{path.relative_to(ROOT)} differs: run tools/botocore_models.py", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
