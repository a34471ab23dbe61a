"""SnapStart in the template (docs/decisions/0025-snapstart.md): on prod, on the four API
functions of the ordering path, on their published versions, where SnapStart's limits allow
it, and with handler modules that register the runtime hooks; the local runtime still loads
them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from warung_local.template import load_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml", {"Stage": "prod"})
DEV = load_template(ROOT / "template.yaml", {"Stage": "dev"})
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE.document["Resources"]
GLOBALS: dict[str, Any] = TEMPLATE.document["Globals"]["Function"]
SNAPSTART = {"AuthFunction", "CatalogFunction", "OrdersFunction", "PaymentsFunction"}


def _properties(logical_id: str) -> dict[str, Any]:
    return {**GLOBALS, **RESOURCES[logical_id]["Properties"]}


def test_snapstart_is_on_prods_published_versions_of_the_ordering_path_only() -> None:
    functions = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"]

    with_snapstart = {k for k in functions if "SnapStart" in RESOURCES[k]["Properties"]}

    assert with_snapstart == SNAPSTART
    assert "SnapStart" not in GLOBALS
    for logical_id in SNAPSTART:
        properties = _properties(logical_id)
        assert TEMPLATE.resolve(properties["SnapStart"]) == {"ApplyOn": "PublishedVersions"}
        assert properties["AutoPublishAlias"] == "live"  # SnapStart needs published versions


def test_dev_stacks_pay_no_snapshot_caching() -> None:
    for logical_id in SNAPSTART:
        snapstart = DEV.document["Resources"][logical_id]["Properties"]["SnapStart"]

        assert DEV.resolve(snapstart) == {"ApplyOn": "None"}


def test_snapstart_functions_stay_within_snapstarts_limits() -> None:
    for logical_id in SNAPSTART:
        properties = _properties(logical_id)
        runtime = properties["Runtime"]
        assert runtime.startswith("python3.")
        assert int(runtime.split(".")[1]) >= 12
        assert "ProvisionedConcurrencyConfig" not in properties
        assert "FileSystemConfigs" not in properties
        assert properties.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
        assert "ImageUri" not in properties
        assert properties.get("PackageType", "Zip") == "Zip"


def test_each_snapstart_handler_module_registers_the_hooks_with_its_resolver() -> None:
    for logical_id in SNAPSTART:
        handler = _properties(logical_id)["Handler"]
        module = ROOT / "functions" / (handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

        source = module.read_text()

        assert "from warung import snapstart" in source, module
        assert "snapstart.install(app)" in source, module


def test_the_local_runtime_loads_the_snapstart_functions() -> None:
    specs = TEMPLATE.functions

    for logical_id in SNAPSTART:
        assert specs[logical_id].handler == RESOURCES[logical_id]["Properties"]["Handler"]


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """prod's template after the SAM transform (offline, the policy venv's translator)."""
    output = tmp_path_factory.mktemp("snapstart") / "prod.json"
    subprocess.run(
        [
            str(ROOT / ".venv-policy" / "bin" / "python"),
            str(ROOT / "tools" / "translate_template.py"),
            str(ROOT / "template.yaml"),
            str(output),
            "--parameter",
            "Stage=prod",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    document: dict[str, Any] = json.loads(output.read_text())
    return document


def test_cloudformation_gets_snapstart_on_each_function_and_a_version_to_snapshot(
    translated: dict[str, Any],
) -> None:
    resources: dict[str, dict[str, Any]] = translated["Resources"]

    for logical_id in SNAPSTART:
        function = resources[logical_id]
        versions = [
            v
            for v in resources.values()
            if v["Type"] == "AWS::Lambda::Version"
            and v["Properties"]["FunctionName"] == {"Ref": logical_id}
        ]

        assert function["Type"] == "AWS::Lambda::Function"
        assert function["Properties"]["SnapStart"] == {
            "ApplyOn": {"Fn::If": ["IsProd", "PublishedVersions", "None"]}
        }
        assert len(versions) == 1, logical_id
