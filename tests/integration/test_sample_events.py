"""Every committed sample event under events/ is one its function answers as documented:
`make invoke FUNCTION=<id> EVENT=events/<dir>/<file>.json` must work for a newcomer.

The functions run in-process on the emulation with the real template (as `make invoke`
does). An API event's answer is never a 5xx, is a status its OpenAPI operation documents,
and an event named `*-anonymous` (no token) is refused with 401 unless its route is public.
The pre-traffic hook's event (`events/deploy_hook/`) runs the hook, which invokes the API
functions through the emulation's Lambda API, as `make invoke` serves it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from warung_demo.seeders import signing_key

from warung_local.emulation import Emulation
from warung_local.functions import LocalFunction, load_functions
from warung_local.lambda_api import LambdaInvoke

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FUNCTION_OF = {
    "admin": "AdminFunction",
    "auth": "AuthFunction",
    "catalog": "CatalogFunction",
    "orders": "OrdersFunction",
    "payments": "PaymentsFunction",
    "platform": "PlatformFunction",
}
# Public routes: a request without a token is answered, not refused.
PUBLIC_ANONYMOUS = {"list-categories", "get-product"}
SAMPLES = sorted(
    p
    for d in FUNCTION_OF
    for p in (EVENTS / d).glob("*.json")
    if "httpMethod" in json.loads(p.read_text(encoding="utf-8"))
)
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def signed_stage(app_stack: Any) -> Any:
    """The stage with its signing key, which every deploy (and make dev's seeder) creates:
    the JWK Set sample and the hook's key probe read it."""
    signing_key(app_stack.template, app_stack.endpoint_url)
    return app_stack


@pytest.fixture(scope="module")
def functions(signed_stage: Any) -> dict[str, LocalFunction]:
    app_stack = signed_stage
    loaded = load_functions(
        app_stack.template, app_stack.endpoint_url, only=set(FUNCTION_OF.values()), eager=False
    )
    # As on the local and dev stages.
    loaded["PaymentsFunction"].environment["PAYMENT_PROVIDER"] = "simulator"
    for function in loaded.values():
        assert function.load(), function.init_error
    return loaded


def _documented(event: dict[str, Any]) -> set[int]:
    operation = DOCUMENT["paths"].get(event["resource"], {}).get(event["httpMethod"].lower(), {})
    return {int(code) for code in operation.get("responses", {})}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_event_gets_a_documented_answer(
    functions: dict[str, LocalFunction], sample: Path
) -> None:
    event = json.loads(sample.read_text(encoding="utf-8"))
    result = functions[FUNCTION_OF[sample.parent.name]].invoke(event)

    assert result.ok, result.error
    status = int(result.payload["statusCode"])
    assert status < 500, result.payload
    if event["resource"] in DOCUMENT["paths"]:
        assert status in _documented(event) or status == 405, (status, _documented(event))
    if sample.stem.endswith("-anonymous") and sample.stem not in PUBLIC_ANONYMOUS:
        assert status == 401, result.payload


def test_the_expiry_schedule_event_runs_the_scheduler(
    functions: dict[str, LocalFunction], app_stack: Any
) -> None:
    scheduler = load_functions(
        app_stack.template, app_stack.endpoint_url, only={"OrderExpiryFunction"}
    )
    event = json.loads((EVENTS / "orders" / "expiry-schedule.json").read_text(encoding="utf-8"))

    result = scheduler["OrderExpiryFunction"].invoke(event)

    assert result.ok, result.error
    assert result.payload == {"expired": 0}


def test_the_reconciliation_schedule_event_reconciles_the_day_before_in_jakarta(
    functions: dict[str, LocalFunction], app_stack: Any
) -> None:
    reconciler = load_functions(
        app_stack.template, app_stack.endpoint_url, only={"PaymentReconciliationFunction"}
    )
    path = EVENTS / "payments" / "reconciliation-schedule.json"
    event = json.loads(path.read_text(encoding="utf-8"))

    result = reconciler["PaymentReconciliationFunction"].invoke(event)

    assert result.ok, result.error
    # 00:00 UTC on the 5th is 07:00 in Jakarta: the 4th is reconciled (the simulator keeps
    # no records, so nothing is compared on this stage)
    assert result.payload == {"day": "2026-12-04", "checked": 0, "unchecked": 0, "mismatches": 0}


def test_the_pre_traffic_hook_event_passes_the_stages_api_functions(signed_stage: Any) -> None:
    # given: the sample event of a release of a stage that signs its tokens
    event = json.loads((EVENTS / "deploy_hook" / "pre-traffic.json").read_text(encoding="utf-8"))
    template = signed_stage.template

    # when: the hook runs on the sample event, its Lambda Invoke served by the emulation
    with Emulation() as emulation:
        functions = load_functions(template, emulation.endpoint_url, eager=False)
        emulation.add_service(LambdaInvoke(functions, template.region, template.account_id))
        result = functions["PreTrafficHookFunction"].invoke(event)
        verdicts = emulation.codedeploy.verdicts()

    # then: every new version passed, and the hook told CodeDeploy so
    assert result.ok, result.error
    assert result.payload == {"status": "Succeeded", "failures": []}
    assert verdicts == [
        {
            "deploymentId": event["DeploymentId"],
            "lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"],
            "status": "Succeeded",
        }
    ]


def test_the_opener_event_is_answered_without_a_page_for_an_order_it_cannot_find(
    functions: dict[str, LocalFunction], app_stack: Any
) -> None:
    opener = load_functions(
        app_stack.template, app_stack.endpoint_url, only={"PaymentOpenerFunction"}
    )
    event = json.loads((EVENTS / "payments" / "payment-opener.json").read_text(encoding="utf-8"))

    result = opener["PaymentOpenerFunction"].invoke(event)

    assert result.ok, result.error
    assert result.payload == {"action_url": None}
