"""`make bench`: the sections that need a running local runtime and its data, on one runtime:
the first request of each route family (warung_bench.first) and the cost of one order's
journey (warung_bench.cost)."""

from __future__ import annotations

import contextlib
import json
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warung_bench.cost import Invocation, StepCounts, folding_savings, journey_cost
from warung_bench.first import (
    BASELINE_FILE,
    BASELINE_HANDLER,
    FLOOR_FILE,
    FLOOR_HANDLER,
    Family,
    FirstRequestError,
    Sample,
    Steps,
    check_step,
    child_env,
    elapsed_since,
    email_job_event,
    family_row,
    measure_rounds,
    restored_row,
    run_child,
    sample_of,
)
from warung_bench.warm import (
    DELIVERY_ADDRESS,
    DEMO_ADMIN_EMAIL,
    DEMO_EMAIL,
    DEMO_OWNER_EMAIL,
    DEMO_PASSWORD,
    NEAR_POINT,
    PAYMENTS_FUNCTION,
    AwsCall,
    CallRecorder,
    ItemImages,
    RequestBench,
    RequestBenchError,
    _Sink,
    open_merchant,
    payment_succeeded_event,
    payment_webhook_secret,
)

SEARCH = "nasi goreng"
TOKEN_REFRESH_S = 300.0  # access tokens live longer; a fresh one now and then is enough
MERCHANT_NUMBER = 98
MERCHANT_STATUSES = ("accepted", "preparing", "out_for_delivery", "delivered")

# Steps of the journey that a different API could fold into another (step name: how).
FOLDABLE = {
    "GET /v1/me": "the sign-in answer could carry the profile the client reads next",
    "POST /v1/cart/quote": "PUT /v1/cart/items could answer with the cart's quote",
    "GET /v1/orders/{id}": "the provider's return to the client could carry the paid status",
    "GET /v1/merchants/{id}/orders": "the new-order e-mail already names the order to open",
    "GET /v1/products?q=": "anonymous: a cache in front (30 s) would answer repeats without "
    "API Gateway",
    "GET /v1/merchants?near=": "anonymous: a cache in front (30 s) would answer repeats",
}


class Shop:
    """The data the families and the journey use, made through the API before measuring:
    one more merchant next to the delivery address with one product (stock not tracked),
    and the demo customer's and owner's access tokens."""

    def __init__(self, bench: RequestBench) -> None:
        self.bench = bench
        self.owner = bench.sign_in(DEMO_OWNER_EMAIL)
        admin = bench.sign_in(DEMO_ADMIN_EMAIL)
        lat, lon = (float(v) for v in NEAR_POINT.split(","))
        self.merchant_id = open_merchant(
            bench, self.owner, admin, MERCHANT_NUMBER, lat + 0.002, lon - 0.001
        )
        self.merchant_name = f"Warung Bench {MERCHANT_NUMBER:02d}"
        product = {
            "name": "Nasi Goreng Bench",
            "description": "The product the bench orders.",
            "price": 25_000,
            "category": "food",
            "tags": ["nasi"],
            "stock": None,
        }
        path = f"/v1/merchants/{self.merchant_id}/products"
        self.product_id = str(bench.send("POST", path, self.owner, product)["id"])
        self._token = ""
        self._token_at = 0.0
        self.user_id = str(bench.send("GET", "/v1/me", self.customer())["id"])
        bench.send("DELETE", "/v1/cart", self.customer())
        self.fill_cart()

    def customer(self) -> str:
        """A current access token of the demo customer."""
        if time.monotonic() - self._token_at > TOKEN_REFRESH_S:
            self._token = self.bench.sign_in(DEMO_EMAIL)
            self._token_at = time.monotonic()
        return self._token

    def auth(self) -> tuple[str, str]:
        return ("Authorization", f"Bearer {self.customer()}")

    def cart_item_event(self) -> dict[str, Any]:
        return self.bench.event(
            "PUT",
            f"/v1/cart/items/{self.product_id}",
            body={"quantity": 2},
            headers=[self.auth()],
        )

    def checkout_event(self) -> dict[str, Any]:
        key = ("Idempotency-Key", f"bench-{uuid.uuid4().hex}")
        return self.bench.event(
            "POST",
            "/v1/orders",
            body={"delivery_address": DELIVERY_ADDRESS},
            headers=[self.auth(), key],
        )

    def fill_cart(self) -> None:
        self.bench.call(self.cart_item_event())

    def place_order(self) -> dict[str, Any]:
        """A pending order of 2 of the product (untimed)."""
        self.fill_cart()
        return self.bench.call(self.checkout_event())[1]

    def close(self) -> None:
        """Empty the demo customer's cart: the emulation's data outlives this runtime in
        the process (a later runtime, or test, starts from the demo data's state)."""
        self.bench.send("DELETE", "/v1/cart", self.customer())

    def cancel(self, order_id: str) -> None:
        self.bench.send("POST", f"/v1/orders/{order_id}/cancel", self.customer())


def _order_of(step: dict[str, Any]) -> dict[str, Any]:
    import json

    body = json.loads((step.get("payload") or {}).get("body") or "{}")
    if not isinstance(body, dict) or "id" not in body:
        raise FirstRequestError(f"no order in the answer: {str(body)[:300]}")
    return body


def checkout_steps(shop: Shop) -> Steps:
    """Checkout, a cart refill (untimed), checkout again; then both orders are cancelled
    (a customer holds at most 5 unpaid orders) and the cart is filled for the next."""

    def after(done: list[dict[str, Any]]) -> None:
        for step in done:
            if step["kind"] in {"first", "warm"}:
                shop.cancel(str(_order_of(step)["id"]))
        shop.fill_cart()

    return Steps(
        [
            {"kind": "first", "event": shop.checkout_event()},
            {"kind": "untimed", "event": shop.cart_item_event()},
            {"kind": "warm", "event": shop.checkout_event()},
        ],
        after=after,
    )


def webhook_steps(shop: Shop, payments: Any, secret: str) -> Steps:
    """The provider's payment.succeeded for two orders placed just before (untimed)."""
    orders = [shop.place_order(), shop.place_order()]
    shop.fill_cart()
    return Steps(
        [
            {"kind": kind, "event": payment_succeeded_event(shop.bench, payments, secret, order)}
            for kind, order in zip(("first", "warm"), orders, strict=True)
        ]
    )


def families(shop: Shop, payments: Any, secret: str) -> list[Family]:
    """The route families of the first-request section, each with its events."""
    bench = shop.bench

    def twice(make: Callable[[], dict[str, Any]]) -> Callable[[], Steps]:
        return lambda: Steps(
            [{"kind": "first", "event": make()}, {"kind": "warm", "event": make()}]
        )

    def login() -> Steps:
        steps = twice(bench.login_event)()
        steps.argon2 = {"module": "auth.rules.passwords", "password": DEMO_PASSWORD}
        return steps

    def email_job() -> Steps:
        order = {"id": f"bench-{uuid.uuid4().hex[:20]}", "number": "WRG-BENC-H000"}
        return twice(lambda: email_job_event(DEMO_EMAIL, order, shop.merchant_name))()

    def anonymous(path: str, query: Sequence[tuple[str, str]] = ()) -> Callable[[], Steps]:
        return twice(lambda: bench.event("GET", path, query=list(query)))

    def signed_in(method: str, path: str, body: Any = None) -> Callable[[], Steps]:
        return twice(lambda: bench.event(method, path, body=body, headers=[shop.auth()]))

    return [
        Family("health", "PlatformFunction", "GET /v1/health", anonymous("/v1/health")),
        Family(
            "catalog search",
            "CatalogFunction",
            f"GET /v1/products?q={SEARCH}",
            anonymous("/v1/products", [("q", SEARCH)]),
        ),
        Family(
            "product read",
            "CatalogFunction",
            "GET /v1/products/{id}",
            anonymous(f"/v1/products/{shop.product_id}"),
        ),
        Family("auth login", "AuthFunction", "POST /v1/auth/login", login),
        Family("auth me", "AuthFunction", "GET /v1/me", signed_in("GET", "/v1/me")),
        Family("orders cart", "OrdersFunction", "GET /v1/cart", signed_in("GET", "/v1/cart")),
        Family(
            "orders quote",
            "OrdersFunction",
            "POST /v1/cart/quote",
            signed_in("POST", "/v1/cart/quote", {"delivery_address": DELIVERY_ADDRESS}),
        ),
        Family(
            "orders checkout", "OrdersFunction", "POST /v1/orders", lambda: checkout_steps(shop)
        ),
        Family(
            "payments webhook",
            PAYMENTS_FUNCTION,
            "POST /v1/payments/webhook",
            lambda: webhook_steps(shop, payments, secret),
        ),
        Family("worker e-mail job", "WorkerFunction", "SQS email.order_status", email_job),
    ]


def snapstart_functions(runtime: Any) -> set[str]:
    """The functions the template restores from a snapshot on prod (SnapStart: ApplyOn
    PublishedVersions under the IsProd condition)."""
    found = set()
    for lid, resource in runtime.template.resources.items():
        snap = (resource.get("Properties") or {}).get("SnapStart") or {}
        if "PublishedVersions" in json.dumps(snap.get("ApplyOn")):
            found.add(lid)
    return found


def snapshot_hooks_dir(scratch: Path) -> Path:
    """A folder holding the runtime's hook library (snapshot_restore_py, which Lambda's
    Python runtime provides; here the development copy), for the restored children only."""
    import snapshot_restore_py

    folder = scratch / "snapstart-runtime"
    folder.mkdir(exist_ok=True)
    shutil.copy2(str(snapshot_restore_py.__file__), folder / "snapshot_restore_py.py")
    return folder


def floor_child(layouts: dict[str, ChildLayout], baseline: ChildLayout) -> ChildLayout | None:
    """The floor handler's layout: the baseline's task root, then a function's path (the
    layer's packages); None without any function to borrow it from."""
    borrowed = next(iter(layouts.values()), None)
    if borrowed is None:
        return None
    shutil.copy2(FLOOR_FILE, baseline.task_root / FLOOR_FILE.name)
    sys_path = [str(baseline.task_root), *borrowed.sys_path]
    return ChildLayout(FLOOR_HANDLER, sys_path, baseline.task_root, borrowed.env)


def reported_row(family: Family, baselines: Sequence[Sample | None]) -> dict[str, Any]:
    """A family's row of the report (the floor's has no verdict; a restored family's has
    its own columns), with its error when it failed."""
    if family.restore:
        row = restored_row(family.name, family.samples, baselines)
    else:
        row = family_row(family.name, family.request, family.samples, baselines)
        if family.name == FLOOR_FAMILY:
            row["status"] = ""
    row["function"] = family.function_id
    if family.error is not None:
        row["status"] = "ERROR"
        row["error"] = family.error
    return row


FLOOR_FAMILY = "shape floor"
FLOOR_PATH = "/v1/floor/{user_id}"
FLOOR_REQUEST = "Powertools + pydantic + botocore client; GetItem"


def bench_floor_event(shop: Shop) -> Steps:
    """The floor handler's two requests: the demo customer's profile, as the baseline reads."""
    from warung_local.gateway import build_proxy_event

    path = f"/v1/floor/{shop.user_id}"
    headers = [("User-Agent", "warung-bench")]
    stage = shop.bench.runtime.template.api.stage
    event = build_proxy_event("GET", path, [], headers, None, None, stage)
    event.update(resource=FLOOR_PATH, pathParameters={"user_id": shop.user_id})
    event["requestContext"] = {**event["requestContext"], "resourcePath": FLOOR_PATH}
    return Steps([{"kind": "first", "event": event}, {"kind": "warm", "event": event}])


@dataclass
class ChildLayout:
    """Where a function is imported from in a child: the import section's Target."""

    handler: str
    sys_path: list[str]
    task_root: Path
    env: dict[str, str]


def first_request_section(
    runtime: Any,
    shop: Shop,
    layouts: dict[str, ChildLayout],
    baseline: ChildLayout,
    runtime_py: Path,
    scratch: Path,
    rounds: int,
    warmup: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """The first-request rounds; the report section."""
    started = time.perf_counter()
    payments = runtime.functions[PAYMENTS_FUNCTION]
    secret = payment_webhook_secret(runtime, payments)
    region = runtime.template.region
    wanted = [f for f in families(shop, payments, secret) if f.function_id in layouts]
    skipped = sorted({f.function_id for f in families(shop, payments, secret)} - set(layouts))

    def run(layout: ChildLayout, function_env: dict[str, str], spec: dict[str, Any]) -> Any:
        env = child_env(layout.env, function_env)
        return run_child(
            runtime_py, layout.handler, layout.sys_path, layout.task_root, env, spec, scratch
        )

    table = str(runtime.functions["AuthFunction"].environment["TABLE_NAME"])
    base_event = {
        "table": table,
        "key": {"pk": {"S": f"USER#{shop.user_id}"}, "sk": {"S": "PROFILE"}},
    }
    base_env = {
        "AWS_ENDPOINT_URL": runtime.endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    shutil.copy2(BASELINE_FILE, baseline.task_root / BASELINE_FILE.name)

    def run_reference(name: str, layout: ChildLayout, env: dict[str, str], steps: Any) -> Sample:
        spec = {"function_name": f"warung-bench-{name}", "region": region, "memory": 512}
        result = run(layout, env, {**spec, "steps": steps})
        for step in result["steps"]:
            check_step(name, step)
        return sample_of(result)

    bare = ChildLayout(BASELINE_HANDLER, baseline.sys_path, baseline.task_root, baseline.env)
    base_steps = [{"kind": "first", "event": base_event}, {"kind": "warm", "event": base_event}]

    def run_baseline() -> Sample:
        return run_reference("baseline", bare, base_env, base_steps)

    # The floor runs with a function's layout (the layer's packages on its path), from the
    # baseline's task root, against the same profile as the baseline.
    floor_layout = floor_child(layouts, baseline)
    floor_steps = bench_floor_event(shop)
    floor = Family(FLOOR_FAMILY, FLOOR_FAMILY, FLOOR_REQUEST, lambda: floor_steps)
    floor_env = {**base_env, "TABLE_NAME": table}

    hooks_dir = snapshot_hooks_dir(scratch)

    def run_family(family: Family) -> Sample:
        if family is floor and floor_layout is not None:
            return run_reference("floor", floor_layout, floor_env, floor_steps.steps)
        function = runtime.functions[family.function_id]
        steps = family.prepare()
        spec = {
            "function_name": function.name,
            "region": region,
            "memory": function.spec.memory,
            "steps": steps.steps,
            "argon2": None if family.restore else steps.argon2,
            "restore": family.restore,
        }
        layout = layouts[family.function_id]
        if family.restore:
            sys_path = [*layout.sys_path, str(hooks_dir)]
            layout = ChildLayout(layout.handler, sys_path, layout.task_root, layout.env)
        result = run(layout, function.environment, spec)
        for step in result["steps"]:
            check_step(family.name, step)
        if steps.after is not None:
            steps.after(result["steps"])
        return sample_of(result)

    progress(
        f"== first request: {len(wanted)} route families against the baseline (import + "
        f"GetItem), {rounds} rounds (+{warmup} warm-up), emulation at {runtime.endpoint_url}"
    )
    restored = [
        Family(f"{f.name} (restored)", f.function_id, f.request, f.prepare, restore=True)
        for f in wanted
        if f.function_id in snapstart_functions(runtime)
    ]
    measured = [*([floor] if floor_layout is not None else []), *wanted, *restored]
    baselines = measure_rounds(measured, run_baseline, run_family, rounds, warmup, progress)
    base_row = family_row("baseline", "boto3 + dynamodb client; GetItem", baselines, baselines)
    base_row["status"] = ""
    floor_row = reported_row(floor, baselines) if floor_layout is not None else None
    rows = [reported_row(family, baselines) for family in wanted]
    restored_rows = [reported_row(family, baselines) for family in restored]
    return {
        "python": "3.13",
        "rounds": rounds,
        "warmup_rounds": warmup,
        "emulation_endpoint": runtime.endpoint_url,
        "host_machine": platform.machine(),
        "baseline": base_row,
        "floor": floor_row,
        "families": rows,
        "restored": restored_rows,
        "skipped_functions": skipped,
        "elapsed_s": elapsed_since(started),
    }


# ------------------------------------------------------------------ the journey


def _drain(runtime: Any) -> None:
    """Step the stream and queue sources until none has work (schedules are left alone)."""
    from warung_local.sources import SqsPoller, StreamPoller

    for _ in range(100):
        busy = 0
        for driver in runtime.drivers:
            if isinstance(driver, SqsPoller):
                busy += driver.poll_once(wait=False)
            elif isinstance(driver, StreamPoller):
                busy += driver.step()
        if not busy:
            return
    raise RequestBenchError("the event sources did not settle after 100 passes")


class InvocationLog:
    """Every invocation of the runtime's functions, with its duration less the bench's own
    item-size lookups made during it."""

    def __init__(self, runtime: Any, images: ItemImages) -> None:
        self.done: list[Invocation] = []
        for lid, function in runtime.functions.items():
            self._wrap(lid, function, images)

    def _wrap(self, lid: str, function: Any, images: ItemImages) -> None:
        invoke = function.invoke
        memory = int(function.spec.memory)

        def timed(event: Any, request_id: str | None = None) -> Any:
            looked_up = images.lookup_s
            started = time.perf_counter()
            try:
                return invoke(event, request_id)
            finally:
                seconds = time.perf_counter() - started - (images.lookup_s - looked_up)
                self.done.append(Invocation(lid, memory, seconds * 1000))

        function.invoke = timed


def sqs_requests(calls: Sequence[AwsCall], invocations: Sequence[Invocation], fed: set[str]) -> int:
    """The SQS requests a step costs: every call but the receives, plus one receive per
    invocation of a queue-fed function (the one that fetched its batch). The local sources
    poll once per pass whether or not there is a message, as Lambda's pollers do all day
    whatever the traffic: those empty receives are not the order's."""
    sent = sum(1 for c in calls if c.service == "sqs" and c.operation != "ReceiveMessage")
    return sent + sum(1 for i in invocations if i.function_id in fed)


def _counts(
    name: str,
    calls: Sequence[AwsCall],
    invocations: list[Invocation],
    emails: int,
    fed: set[str],
) -> StepCounts:
    ddb = [c for c in calls if c.service == "dynamodb"]
    return StepCounts(
        name=name,
        api_requests=1,
        invocations=invocations,
        read_units=sum(c.read_units or 0.0 for c in ddb),
        write_units=sum(c.write_units or 0.0 for c in ddb),
        sqs_requests=sqs_requests(calls, invocations, fed),
        emails=emails,
        secrets_calls=sum(1 for c in calls if c.service == "secretsmanager"),
        dynamodb_calls=len(ddb),
    )


def run_journey(
    runtime: Any, shop: Shop, recorder: CallRecorder, log: InvocationLog
) -> list[StepCounts]:
    """One order's journey, step by step, with what each step made AWS do."""
    bench = shop.bench
    payments = runtime.functions[PAYMENTS_FUNCTION]
    secret = payment_webhook_secret(runtime, payments)
    state: dict[str, Any] = {}
    customer = ("Authorization", "")

    def as_customer() -> list[tuple[str, str]]:
        return [customer]

    def owner() -> list[tuple[str, str]]:
        return [("Authorization", f"Bearer {shop.owner}")]

    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("GET /v1/products?q=", lambda: bench.event("GET", "/v1/products", query=[("q", SEARCH)])),
        (
            "GET /v1/merchants?near=",
            lambda: bench.event("GET", "/v1/merchants", query=[("near", NEAR_POINT)]),
        ),
        ("GET /v1/products/{id}", lambda: bench.event("GET", f"/v1/products/{shop.product_id}")),
        ("POST /v1/auth/login", bench.login_event),
        ("GET /v1/me", lambda: bench.event("GET", "/v1/me", headers=as_customer())),
        (
            "PUT /v1/cart/items/{id}",
            lambda: bench.event(
                "PUT",
                f"/v1/cart/items/{shop.product_id}",
                body={"quantity": 2},
                headers=as_customer(),
            ),
        ),
        (
            "POST /v1/cart/quote",
            lambda: bench.event(
                "POST",
                "/v1/cart/quote",
                body={"delivery_address": DELIVERY_ADDRESS},
                headers=as_customer(),
            ),
        ),
        (
            "POST /v1/orders",
            lambda: bench.event(
                "POST",
                "/v1/orders",
                body={"delivery_address": DELIVERY_ADDRESS},
                headers=[*as_customer(), ("Idempotency-Key", f"bench-{uuid.uuid4().hex}")],
            ),
        ),
        (
            "POST /v1/payments/webhook",
            lambda: payment_succeeded_event(bench, payments, secret, state["order"]),
        ),
        (
            "GET /v1/orders/{id}",
            lambda: bench.event("GET", f"/v1/orders/{state['order']['id']}", headers=as_customer()),
        ),
        (
            "GET /v1/merchants/{id}/orders",
            lambda: bench.event("GET", f"/v1/merchants/{shop.merchant_id}/orders", headers=owner()),
        ),
    ]
    for status in MERCHANT_STATUSES:
        steps.append(
            (
                f"POST /v1/orders/{{id}}/status {status}",
                lambda status=status: bench.event(  # type: ignore[misc]
                    "POST",
                    f"/v1/orders/{state['order']['id']}/status",
                    body={"status": status},
                    headers=owner(),
                ),
            )
        )

    fed = {source.function_id for source in runtime.template.sqs_sources}
    counted: list[StepCounts] = []
    for name, make in steps:
        event = make()
        mails = len(runtime.mailbox.messages())
        done = len(log.done)
        _, body, calls = bench.call(event)
        _drain(runtime)
        calls = [*calls, *recorder.take()]
        sent = len(runtime.mailbox.messages()) - mails
        counted.append(_counts(name, calls, log.done[done:], sent, fed))
        if name == "POST /v1/auth/login":
            customer = ("Authorization", f"Bearer {body['access_token']}")
        elif name == "POST /v1/orders":
            state["order"] = body
    final = state["order"]
    last = bench.send("GET", f"/v1/orders/{final['id']}", shop.customer())
    if last.get("status") != "delivered":
        raise RequestBenchError(f"the journey left the order {last.get('status')!r}, not delivered")
    return counted


def cost_section(
    runtime: Any,
    shop: Shop,
    recorder: CallRecorder,
    images: ItemImages,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """One warm-up journey, then the counted one; the report section."""
    started = time.perf_counter()
    log = InvocationLog(runtime, images)
    shop.bench.send("DELETE", "/v1/cart", shop.customer())
    _drain(runtime)
    recorder.take()
    progress(
        "== cost: one order's journey (browse, sign in, cart, quote, checkout, pay, merchant "
        "status changes), once to warm up, once counted"
    )
    run_journey(runtime, shop, recorder, log)
    steps = run_journey(runtime, shop, recorder, log)
    cost = journey_cost(steps)
    return {
        "cost": cost,
        "foldable": folding_savings(cost, FOLDABLE),
        "notes": [
            "Lambda duration: in-process wall time on this machine, moto's time included: "
            "an upper bound",
            "not counted: the merchant's sign-in (not per order), stream reads by Lambda "
            "(free), CloudWatch Logs and metrics, X-Ray",
        ],
        "elapsed_s": elapsed_since(started),
    }


def run_runtime_sections(
    template: Path,
    layouts: dict[str, ChildLayout],
    baseline: ChildLayout | None,
    runtime_py: Path,
    scratch: Path,
    rounds: int,
    warmup: int,
    progress: Callable[[str], None],
    *,
    first: bool = True,
    cost: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a local runtime, measure the first requests and the journey's cost, stop it."""
    from warung_local.runtime import LocalRuntime

    first_section: dict[str, Any] = {"skipped": "--no-first-request"}
    cost_result: dict[str, Any] = {"skipped": "--no-cost"}
    if not first and not cost:
        return first_section, cost_result
    sink = _Sink()
    images = ItemImages()
    recorder = CallRecorder(images)
    with contextlib.redirect_stdout(sink):
        runtime = LocalRuntime(template, port=0, emulator_port=0, seed=True, start_sources=False)
        runtime.start()
        try:
            bench = RequestBench(runtime, recorder, sink)
            shop = Shop(bench)
            if first and baseline is not None:
                try:
                    first_section = first_request_section(
                        runtime,
                        shop,
                        layouts,
                        baseline,
                        runtime_py,
                        scratch,
                        rounds,
                        warmup,
                        progress,
                    )
                except (FirstRequestError, RequestBenchError) as exc:
                    first_section = {"error": str(exc)}
            if cost:
                assert runtime.emulation is not None
                runtime.emulation.add_observer(recorder)
                middleware = getattr(runtime.emulation, "middleware", None)
                if middleware is not None and hasattr(middleware, "app"):
                    from warung_bench.warm import BeforeImages

                    middleware.app = BeforeImages(middleware.app, images)
                try:
                    cost_result = cost_section(runtime, shop, recorder, images, progress)
                except RequestBenchError as exc:
                    cost_result = {"error": str(exc)}
            shop.close()
        finally:
            runtime.stop()
    return first_section, cost_result
