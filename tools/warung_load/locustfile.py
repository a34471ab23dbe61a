"""The load test's customers, for `locust -f` (started by `python -m warung_load`).

They play `warung_load.scenario` against `--host`; the pool's password comes from
`LOAD_PASSWORD` and its size from `LOAD_POOL`; `LOAD_THINK_S` ("min,max" seconds, default
"0.5,1.5") is a customer's think time between two tasks. At the end the per-route table is
printed and the exit code says whether every answer was one the scenario expected.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import sys
import time
import uuid
from typing import Any, NoReturn

import requests
from locust import HttpUser, between, events
from locust.env import Environment

from warung_load import scenario
from warung_load.scenario import Figures, Route, Tally

TALLY = Tally()
# Orders placed, and those their customer then saw paid (the webhook is asynchronous).
ORDERS = {"placed": 0, "seen paid": 0}
# Which page, word or quantity: no security in it.
RNG = random.Random()  # noqa: S311
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
POOL = int(os.environ.get("LOAD_POOL", "1"))
# A customer's think time between two tasks, in seconds: "min,max".
THINK_S = [float(s) for s in os.environ.get("LOAD_THINK_S", "0.5,1.5").split(",")]
_customer_numbers = itertools.count()
# The load merchant and its menu, found once before the run starts.
MERCHANT: dict[str, Any] = {}


def _cannot_start(reason: str) -> NoReturn:
    print(f"load: {reason}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _find_the_merchant(environment: Environment, **_: Any) -> None:
    """The load merchant's id and products, read without being counted."""
    host = (environment.host or "").rstrip("/")
    if not PASSWORD or not host:
        _cannot_start("LOAD_PASSWORD and --host are needed")
    try:
        found = requests.get(
            f"{host}/v1/merchants", params={"q": scenario.LOAD_MERCHANT, "limit": "100"}, timeout=30
        )
    except requests.RequestException as exc:
        _cannot_start(f"{host} does not answer: {exc}")
    merchants = found.json().get("items", []) if found.status_code == 200 else []
    ids = [m["id"] for m in merchants if m["name"] == scenario.LOAD_MERCHANT]
    if not ids:
        _cannot_start(
            f"no active merchant {scenario.LOAD_MERCHANT!r} at {host} "
            f"({found.status_code}): create the pool first (python -m warung_load.pool)"
        )
    menu = requests.get(
        f"{host}/v1/products", params={"merchant_id": ids[0], "limit": "100"}, timeout=30
    ).json()["items"]
    MERCHANT.update(id=ids[0], products=[p["id"] for p in menu if p["available"]])
    # The compact table below replaces locust's own long ones.
    logging.getLogger("locust.stats_logger").setLevel(logging.WARNING)


def _exit_code(environment: Environment, **_: Any) -> None:
    environment.process_exit_code = TALLY.exit_code()


def _report(**_: Any) -> None:
    stats = _ENVIRONMENT[0].stats if _ENVIRONMENT else None
    if stats is None:
        return
    rows = [_figures(entry) for entry in stats.entries.values()]
    print(f"orders: {ORDERS['placed']} placed, {ORDERS['seen paid']} seen paid", flush=True)
    print(scenario.format_table(rows, TALLY, _figures(stats.total, "total")), flush=True)


_ENVIRONMENT: list[Environment] = []


def _keep_environment(environment: Environment, **_: Any) -> None:
    _ENVIRONMENT[:] = [environment]


def _figures(entry: Any, name: str | None = None) -> Figures:
    def at(q: float) -> float:
        return float(entry.get_response_time_percentile(q)) if entry.num_requests else float("nan")

    return Figures(name or entry.name, entry.num_requests, at(0.5), at(0.95), at(0.99))


class Customer(HttpUser):
    """A customer of the pool: browses, signs in, orders and pays (scenario.MIX)."""

    wait_time = between(THINK_S[0], THINK_S[-1])

    def on_start(self) -> None:
        self.email = scenario.pool_email(next(_customer_numbers) % POOL + 1)
        self.token: str | None = None
        self.token_until = 0.0
        self.awaiting: str | None = None  # an order placed and not yet seen paid
        self.sign_in()

    # ---------------------------------------------------------------- requests

    def call(self, route: Route, method: str, path: str, **kwargs: Any) -> Any | None:
        """One request, judged: its JSON body when the answer is one the route expects."""
        with self.client.request(
            method, path, name=route.name, catch_response=True, **kwargs
        ) as response:
            verdict = TALLY.record(route, response.status_code or None)
            if verdict is not scenario.Verdict.OK:
                response.failure(f"{verdict.value}: {response.status_code} {response.text[:200]}")
                return None
            response.success()
            return response.json() if response.content else {}

    def signed_in(self) -> dict[str, str]:
        if self.token is None or time.monotonic() > self.token_until:
            self.sign_in()
        return {"Authorization": f"Bearer {self.token}"}

    def sign_in(self) -> None:
        body = self.call(
            scenario.SIGN_IN,
            "POST",
            "/v1/auth/login",
            json={"email": self.email, "password": PASSWORD},
        )
        if body is not None:
            self.token = body["access_token"]
            # signed in again a minute before the access token expires
            self.token_until = time.monotonic() + max(0, int(body["expires_in"]) - 60)

    # ---------------------------------------------------------------- tasks

    def search(self) -> None:
        word = RNG.choice(scenario.SEARCH_WORDS)
        self.call(scenario.SEARCH, "GET", f"/v1/products?q={word}")

    def menu(self) -> None:
        self.call(scenario.MENU, "GET", f"/v1/products?merchant_id={MERCHANT['id']}&limit=100")

    def nearby(self) -> None:
        lat, lon = RNG.choice(scenario.POINTS)
        self.call(scenario.NEARBY, "GET", f"/v1/merchants?near={lat},{lon}")

    def lockout(self) -> None:
        wrong = {"email": scenario.DECOY_EMAIL, "password": f"wrong-{uuid.uuid4().hex}"}
        self.call(scenario.LOCKOUT, "POST", "/v1/auth/login", json=wrong)

    def order(self) -> None:
        """Cart, quote, checkout, pay; or, while the last order awaits its payment, follow it."""
        auth = self.signed_in()
        if self.awaiting is not None:
            order = self.call(scenario.TRACK, "GET", f"/v1/orders/{self.awaiting}", headers=auth)
            if order is None or order["status"] != "pending_payment":
                self.awaiting = None
                ORDERS["seen paid"] += order is not None and order["status"] == "paid"
            return
        for product_id in RNG.sample(MERCHANT["products"], k=min(2, len(MERCHANT["products"]))):
            quantity = {"quantity": RNG.randint(1, 3)}
            path = f"/v1/cart/items/{product_id}"
            if self.call(scenario.CART_PUT, "PUT", path, json=quantity, headers=auth) is None:
                return
        address = {"delivery_address": scenario.DELIVERY_ADDRESS}
        if self.call(scenario.QUOTE, "POST", "/v1/cart/quote", json=address, headers=auth) is None:
            return
        placed = self.call(
            scenario.CHECKOUT,
            "POST",
            "/v1/orders",
            json=address,
            headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
        )
        if placed is None:
            return
        self.awaiting = placed["id"]
        ORDERS["placed"] += 1
        payment = f"/v1/payments/{placed['payment']['id']}/simulate"
        self.call(scenario.PAY, "POST", payment, json={"outcome": "succeeded"}, headers=auth)


# locust's EventHook.add_listener has no annotations.
events.init.add_listener(_keep_environment)  # type: ignore[no-untyped-call]
events.init.add_listener(_find_the_merchant)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_exit_code)  # type: ignore[no-untyped-call]
events.quit.add_listener(_report)  # type: ignore[no-untyped-call]

# The mix: each task as often as its weight (scenario.MIX says which and why).
_TASKS = {
    "search": Customer.search,
    "menu": Customer.menu,
    "nearby": Customer.nearby,
    "sign_in": Customer.sign_in,
    "order": Customer.order,
    "lockout": Customer.lockout,
}
Customer.tasks = [_TASKS[task.name] for task in scenario.MIX for _ in range(task.weight)]
