"""Build the OpenAPI 3.1 document of the whole API from the functions' own routes.

Each function of template.yaml is imported in a fresh interpreter (its code directory and
layers on the path, its environment set, as in Lambda), and its resolver ``app`` describes
its routes. The documents are merged by ``warung.openapi.merge`` and written to
``docs/openapi.json`` (for readers) and ``functions/platform_api/openapi.json`` (what
``GET /v1/openapi.json`` serves). ``--check`` fails when either copy is out of date.

    python tools/openapi_doc.py           # write both copies
    python tools/openapi_doc.py --check   # exit 1 on drift
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "layers" / "common")]

from warung.openapi import merge  # noqa: E402
from warung_local.template import FunctionSpec, load_template  # noqa: E402

OUTPUTS = (ROOT / "docs" / "openapi.json", ROOT / "functions" / "platform_api" / "openapi.json")
TITLE = "Warung API"

_DESCRIBE = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
app = getattr(module, "app", None)
if app is None or not hasattr(app, "get_openapi_json_schema"):
    print("null")
else:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
    bearer = HTTPBearer(bearerFormat="JWT", description="Access token from /v1/auth/login")
    document = app.get_openapi_json_schema(
        title="x", version="x", security_schemes={"bearerAuth": bearer}
    )
    print(json.dumps(json.loads(document)))
"""


def describe(spec: FunctionSpec) -> Any:
    """The OpenAPI document of one function's resolver, or ``None`` if it has none."""
    code_dir = spec.code_dir
    module = spec.handler.rsplit(".", 1)[0]
    env = {
        **os.environ,
        **spec.environment,
        "PYTHONPATH": os.pathsep.join(map(str, [spec.import_root, *spec.layers])),
    }
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Warung")
    result = subprocess.run(
        [sys.executable, "-c", _DESCRIBE, module],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"cannot describe {code_dir}:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def build() -> dict[str, Any]:
    """The merged document, from the functions template.yaml defines today."""
    template = load_template(ROOT / "template.yaml", {"Stage": "local"})
    documents = []
    for spec in sorted(template.functions.values(), key=lambda s: s.logical_id):
        document = describe(spec)
        if document is not None:
            documents.append(document)
    version = template.parameters.get("AppVersion", "0.0.0")
    return merge(documents, title=TITLE, version=version)


def render(document: dict[str, Any]) -> str:
    """The committed text form: stable key order, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a copy is out of date")
    args = parser.parse_args()
    text = render(build())
    stale = [path for path in OUTPUTS if not path.exists() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run `make openapi`", file=sys.stderr)
        return 1 if stale else 0
    for path in OUTPUTS:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
