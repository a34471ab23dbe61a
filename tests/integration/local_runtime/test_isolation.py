"""Two functions with same-named modules and one shared layer stay apart, as in AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from warung_local.runtime import LocalRuntime


def test_same_named_modules_and_layer_state_are_separate_per_function(
    fixture_runtime: LocalRuntime,
) -> None:
    # given: alpha and beta both have app.py and naming.py, and use the layer's fixture_state
    alpha, beta = (
        fixture_runtime.functions["AlphaFunction"],
        fixture_runtime.functions["BetaFunction"],
    )
    alpha_before = alpha.invoke({}).payload["calls"]
    beta_before = beta.invoke({}).payload["calls"]

    # when: alpha runs twice and beta once
    first_alpha = alpha.invoke({}).payload
    second_alpha = alpha.invoke({}).payload
    only_beta = beta.invoke({}).payload

    # then: each sees its own modules, even those imported lazily inside the handler
    assert (first_alpha["name"], first_alpha["lazy_name"]) == ("alpha", "alpha")
    assert (only_beta["name"], only_beta["lazy_name"]) == ("beta", "beta")
    # and: the layer's module-level state is one copy per function
    assert (first_alpha["calls"], second_alpha["calls"]) == (alpha_before + 1, alpha_before + 2)
    assert only_beta["calls"] == beta_before + 1
    assert (first_alpha["loaded_for"], only_beta["loaded_for"]) == ("alpha", "beta")


def test_environment_of_one_function_is_invisible_to_the_other(
    fixture_runtime: LocalRuntime,
) -> None:
    alpha = fixture_runtime.invoke("AlphaFunction", {}).payload
    beta = fixture_runtime.invoke("BetaFunction", {}).payload

    assert (alpha["greeting"], beta["greeting"]) == ("alpha", "beta")
    assert alpha["only_alpha"] == "alpha-only"
    assert beta["only_alpha"] is None
    assert alpha["shared"] == beta["shared"] == "from-globals"
    # and: nothing of theirs is left in the test process
    assert "ONLY_ALPHA" not in os.environ
    assert "GREETING" not in os.environ
    assert "naming" not in sys.modules
    assert "fixture_state" not in sys.modules


def test_context_reports_the_function_and_its_remaining_time(fixture_runtime: LocalRuntime) -> None:
    result = fixture_runtime.invoke("AlphaFunction", {})

    assert result.payload["function_name"] == fixture_runtime.functions["AlphaFunction"].name
    assert 4000 < result.payload["remaining_ms"] <= 5000  # Timeout: 5 in the Globals


def test_handler_exception_becomes_a_lambda_error_result(fixture_runtime: LocalRuntime) -> None:
    result = fixture_runtime.invoke("WebFunction", {"resource": "/boom"})

    assert not result.ok
    assert result.error is not None
    assert result.error["errorType"] == "RuntimeError"
    assert result.error["errorMessage"] == "secret internal detail"
    assert any("app.py" in line for line in result.error["stackTrace"])


def test_a_function_package_loads_from_its_own_folder_and_reaches_no_other_function() -> None:
    # In its own process, as `dev` runs (functions/ is not on the path there; pytest's is).
    probe = """
import json, sys
from pathlib import Path
from warung_local.functions import LocalFunction
from warung_local.template import load_template

template = load_template(Path("template.yaml"), {"Stage": "local"})
function = LocalFunction(template.functions["PlatformFunction"], "http://127.0.0.1:9")
loaded = function.load()
with function.activated():
    package = sys.modules["platform_api"]
    try:
        import orders  # another function's package, beside it in functions/
        reached = True
    except ModuleNotFoundError:
        reached = False
    print(json.dumps({
        "loaded": loaded,
        "package_path": list(package.__path__),
        "handler_file": sys.modules["platform_api.app"].__file__,
        "reached_orders": reached,
    }))
"""
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    folder = root / "functions" / "platform_api"
    assert seen["loaded"] is True
    assert seen["package_path"] == [str(folder)]
    assert seen["handler_file"] == str(folder / "app.py")
    assert seen["reached_orders"] is False
