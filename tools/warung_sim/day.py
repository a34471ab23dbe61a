"""The synthetic day: customers and merchants using the API, hour by hour, on the local runtime.

Every request goes through the function the template routes it to, as the local gateway's
proxy event (`warung_bench.warm.RequestBench.event`), in this process (`runtime.invoke`),
with the key-heat recorder attributing what it does to that function and to the hour.
Every function's clock (`warung.clock` of its own modules) stands at the simulated moment.

The mix per order, and why (docs/capacity.md, "The synthetic day"):

* a buying session: a list of merchants (near the customer 60%, of the city 25%, all
  15%), one merchant's page and menu, one
  search, two product pages, the profile (`GET /v1/me`), two cart writes and a quote, the
  checkout, one look at the order; then the payment (85% of the online orders are paid,
  the rest expire) and the merchant's moves (its order list, accepted, preparing, out for
  delivery, delivered);
* two browsing sessions that do not buy: a list of merchants, a merchant and its menu, a
  search, a product page, a category list every other session (food-delivery apps
  convert about one session in three; habitual customers open the app to order);
* 10% of the checkouts pay cash on delivery; 3% of the orders are cancelled by the
  customer while unpaid; 5% of the buying sessions sign in first (the others hold a token
  from an earlier sign-in, renewed by refresh);
* a flash-sale promo code during the lunch hour (12:00-13:00 Jakarta time), used by 30%
  of that hour's checkouts;
* the hours of a Jakarta day (06:00-23:00), with a lunch and a dinner peak;
* every few orders the outbox relay reads the stream and the worker runs the jobs (e-mails,
  webhooks); every 15 simulated minutes the expiry job runs with the schedule's event.

Customers on mobile networks (60%) share a few public addresses (carrier-grade NAT), the
others have their own: what the per-IP limits see.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from warung_sim.model import aws_latency_ms
from warung_sim.population import PASSWORD, SeededCustomer, SeededMerchant, World
from warung_sim.recorder import KeyHeatRecorder

JAKARTA = timedelta(hours=7)
# Share of the day's orders per hour of the day, Jakarta time: a lunch and a dinner peak.
HOUR_WEIGHTS: dict[int, float] = {
    6: 1, 7: 2, 8: 3, 9: 3, 10: 4, 11: 9, 12: 12, 13: 8, 14: 4, 15: 3, 16: 3,
    17: 5, 18: 10, 19: 12, 20: 8, 21: 4, 22: 2,
}  # fmt: skip
SEARCH_TERMS: tuple[tuple[str, int], ...] = (
    ("nasi", 6),
    ("nasi gor", 3),
    ("ayam", 3),
    ("mie", 2),
    ("sate", 1),
    ("es teh", 2),
)
SEARCH_TERMS += (("bakso", 1), ("kopi", 1), ("martabak", 1), ("soto", 1))
FLASH_CODE = "KILAT18"
EXPIRY_EVERY = timedelta(minutes=15)
PIPELINE_EVERY_ORDERS = 4
API_FUNCTIONS = ("AuthFunction", "CatalogFunction", "OrdersFunction", "PaymentsFunction")


@dataclass(frozen=True)
class DayPlan:
    """The day's size and mix (see the module's docstring for the reasoning)."""

    orders: int = 40
    date: str = "2026-12-07"  # a Monday
    browse_sessions_per_order: int = 2
    flash_hour: int = 12
    flash_share: float = 0.30
    cod_share: float = 0.10
    paid_share: float = 0.85
    cancel_share: float = 0.03
    sign_in_share: float = 0.05
    cgnat_share: float = 0.60
    cgnat_addresses: int = 6
    seed: int = 18

    def orders_per_hour(self) -> dict[int, int]:
        """The day's orders spread over the hours by weight (at least one per hour)."""
        total = sum(HOUR_WEIGHTS.values())
        return {h: max(1, round(self.orders * w / total)) for h, w in HOUR_WEIGHTS.items()}


@dataclass(frozen=True)
class Request:
    """One API request of the day: when, which function and route, the answer, the time."""

    period: str
    function: str
    route: str
    kind: str  # browse, search, cart, checkout, pay, status, account, order
    status: int
    ms: float


@dataclass
class DayResult:
    """What the day did: requests, invocations, orders per hour."""

    requests: list[Request] = field(default_factory=list)
    # period, function, ms: the duration measured here with the emulation's wait replaced by
    # AWS's latency per request (model.AWS_LATENCY_MS); `measured` keeps the raw wall times
    invocations: list[tuple[str, str, float]] = field(default_factory=list)
    measured: list[tuple[str, str, float]] = field(default_factory=list)
    orders_by_period: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)  # the first refused answers, for a look
    # request number (its place in `requests`) -> its CloudFront cache key (path, query
    # string, Authorization, Origin), for the answers the cache may keep (`public`)
    cache_keys: dict[int, str] = field(default_factory=dict)
    elapsed_s: float = 0.0


def cache_may_keep(payload: Any) -> bool:
    """Whether CloudFront may keep this answer: its ``Cache-Control`` says ``public``."""
    headers = {str(k).lower(): str(v) for k, v in (payload.get("headers") or {}).items()}
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers.setdefault(str(name).lower(), ", ".join(str(v) for v in values))
    return "public" in headers.get("cache-control", "")


def cache_key(method: str, path: str, query: tuple[tuple[str, str], ...], token: str | None) -> str:
    """A request's CloudFront cache key (decision 0024): the path, the whole query string,
    the Authorization header (the simulated browsers send no Origin)."""
    return f"{method} {path}?{urlencode(query)} {token or ''}".rstrip()


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat, dlon = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = (
        math.sin(dlat / 2) ** 2
        + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(a))


class Day:
    """Drives one synthetic day through a started `LocalRuntime` (sources not started)."""

    def __init__(
        self,
        runtime: Any,
        recorder: KeyHeatRecorder,
        world: World,
        plan: DayPlan,
        progress: Callable[[str], None] = lambda _m: None,
    ) -> None:
        from warung_bench.warm import RequestBench, _Sink

        self.runtime, self.recorder, self.world, self.plan = runtime, recorder, world, plan
        self.bench = RequestBench(runtime, None, _Sink())  # type: ignore[arg-type]
        self.rng = random.Random(plan.seed)  # noqa: S311 - simulated traffic
        self.result = DayResult()
        self.progress = progress
        self.moment = datetime.fromisoformat(f"{plan.date}T06:00:00+07:00").astimezone(UTC)
        self.period = ""
        self.tokens: dict[str, tuple[str, datetime]] = {}
        self.addresses: dict[str, str] = {}
        self.popularity = {
            city: self._zipf(len(world.merchants_in(city)))
            for city in {m.city for m in world.merchants}
        }
        self.webhook_secret = ""

    # ------------------------------------------------------------ plumbing

    @staticmethod
    def _zipf(n: int) -> list[float]:
        return [1 / (rank + 1) ** 0.8 for rank in range(n)]

    def set_clock(self, moment: datetime) -> None:
        """Every function's clock (and this process's) at ``moment``."""
        from warung import clock

        self.moment = moment
        clock.freeze(moment)
        for function in self.runtime.functions.values():
            module = function.modules.get("warung.clock")
            if module is not None:
                module.freeze(moment)

    def release_clock(self) -> None:
        """Every function's clock (and this process's) back on the system's time: the day
        leaves no frozen clock behind for whatever runs next in the process."""
        from warung import clock

        clock.restore()
        for function in self.runtime.functions.values():
            module = function.modules.get("warung.clock")
            if module is not None:
                module.restore()

    @contextmanager
    def unrecorded(self) -> Iterator[None]:
        """The simulation's own set-up calls (tokens, signatures) are not the day's."""
        was, self.recorder.recording = self.recorder.recording, False
        try:
            yield
        finally:
            self.recorder.recording = was

    def invoke(self, function: str, event: Any) -> Any:
        """One invocation, attributed to ``function`` and the hour; its result."""
        with self._timing(function):
            return self.runtime.invoke(function, event)

    @contextmanager
    def _timing(self, function: str, *, kept: Callable[[], bool] = lambda: True) -> Iterator[None]:
        """Time what runs inside as one invocation of ``function`` (when ``kept()`` says so
        after it): its wall time, and the same with the emulation's wait exchanged for AWS's
        latency per request sent."""
        waited, sent = self.recorder.waited_s, Counter(self.recorder.sent)
        started = time.perf_counter()
        with self.recorder.attributed(function):
            yield
        ms = (time.perf_counter() - started) * 1000
        if not kept():
            return
        wait_ms = (self.recorder.waited_s - waited) * 1000
        requests = self.recorder.sent - sent
        modelled = max(0.0, ms - wait_ms) + aws_latency_ms(requests)
        self.result.invocations.append((self.period, function, modelled))
        self.result.measured.append((self.period, function, ms))

    def api(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        query: tuple[tuple[str, str], ...] = (),
        headers: tuple[tuple[str, str], ...] = (),
        raw_body: bytes | None = None,
        ip: str = "198.51.100.1",
    ) -> tuple[int, dict[str, Any]]:
        """One API request through its function; (status, parsed body)."""
        match = self.bench.router.match(method, path)
        if match is None:
            raise ValueError(f"{method} {path} is not a route")
        auth = (("Authorization", f"Bearer {token}"),) if token else ()
        event = self.bench.event(
            method,
            path,
            body=body,
            headers=[*auth, *headers],
            query=list(query),
            source_ip=ip,
            raw_body=raw_body,
        )
        number = len(self.result.requests)
        started = time.perf_counter()
        self.recorder.request = number
        try:
            result = self.invoke(match.route.function_id, event)
        finally:
            self.recorder.request = -1
        ms = (time.perf_counter() - started) * 1000
        status = int(result.payload.get("statusCode", 500)) if result.ok else 502
        if result.ok and cache_may_keep(result.payload):
            self.result.cache_keys[number] = cache_key(method, path, query, token)
        try:
            parsed = json.loads(result.payload.get("body") or "{}") if result.ok else {}
        except ValueError:
            parsed = {}
        route = f"{method} {match.route.path}"
        fn = match.route.function_id
        self.result.requests.append(Request(self.period, fn, route, kind, status, ms))
        self.result.outcomes[f"{route} {status}"] += 1
        if status >= 400 and len(self.result.refusals) < 20:
            self.result.refusals.append(f"{route} {status}: {str(parsed)[:300]}")
        return status, parsed if isinstance(parsed, dict) else {"items": parsed}

    def token(self, user_id: str) -> str:
        """An access token of ``user_id``, minted with the stage's signing key (as sign-in
        would, without its Argon2 check), cached for the day."""
        found = self.tokens.get(user_id)
        if found is not None and found[1] > self.moment:
            return found[0]
        auth = self.runtime.functions["AuthFunction"]
        with self.unrecorded(), auth.activated():
            tokens = importlib.import_module("warung.tokens")
            ids = importlib.import_module("warung.ids")
            minted, _ = tokens.issue_access_token(user_id, ids.new_id())
        # Access tokens live 15 minutes: a new one (as a refresh would give) after 10.
        self.tokens[user_id] = (str(minted), self.moment + timedelta(minutes=10))
        return str(minted)

    def address_of(self, customer: SeededCustomer) -> str:
        """The customer's public address: a shared carrier-grade NAT one for most mobiles."""
        found = self.addresses.get(customer.user_id)
        if found is None:
            if self.rng.random() < self.plan.cgnat_share:
                found = f"203.0.113.{self.rng.randrange(self.plan.cgnat_addresses) + 1}"
            else:
                a, b, c = (self.rng.randrange(1, 255) for _ in range(3))
                found = f"10.{a}.{b}.{c}"
            self.addresses[customer.user_id] = found
        return found

    # ------------------------------------------------------------ sessions

    def merchant_for(self, customer: SeededCustomer) -> SeededMerchant:
        """A merchant that delivers to the customer, the popular ones more often."""
        merchants = self.world.merchants_in(customer.city) or self.world.merchants
        weights = self.popularity.get(customer.city) or self._zipf(len(merchants))
        near = [
            (m, w)
            for m, w in zip(merchants, weights, strict=True)
            if _distance_km(customer.lat, customer.lon, m.lat, m.lon) < 14
        ]
        if not near:
            return min(
                merchants, key=lambda m: _distance_km(customer.lat, customer.lon, m.lat, m.lon)
            )
        return self.rng.choices([m for m, _ in near], weights=[w for _, w in near])[0]

    def search_term(self) -> str:
        return self.rng.choices([t for t, _ in SEARCH_TERMS], weights=[w for _, w in SEARCH_TERMS])[
            0
        ]

    def browse(self, customer: SeededCustomer, merchant: SeededMerchant) -> None:
        """The merchants near, one merchant's page and menu, a search, a product page."""
        ip = self.address_of(customer)
        # The merchants near (most), of the city, or the whole list (MSTATUS#active).
        roll = self.rng.random()
        if roll < 0.6:
            listing: tuple[tuple[str, str], ...] = (
                ("near", f"{customer.lat:.4f},{customer.lon:.4f}"),
            )
        elif roll < 0.85:
            listing = (("city", customer.city),)
        else:
            listing = ()
        self.api("browse", "GET", "/v1/merchants", query=listing, ip=ip)
        self.api("browse", "GET", f"/v1/merchants/{merchant.merchant_id}", ip=ip)
        menu = (("merchant_id", merchant.merchant_id),)
        self.api("browse", "GET", "/v1/products", query=menu, ip=ip)
        self.api("search", "GET", "/v1/products", query=(("q", self.search_term()),), ip=ip)
        product = self.rng.choice(merchant.products)
        self.api("browse", "GET", f"/v1/products/{product.product_id}", ip=ip)

    def window_shopping(self, customer: SeededCustomer) -> None:
        """A session that does not buy."""
        self.browse(customer, self.merchant_for(customer))
        if self.rng.random() < 0.5:
            ip = self.address_of(customer)
            category = (("category", self.rng.choice(("food", "drinks", "snacks"))),)
            self.api("browse", "GET", "/v1/products", query=category, ip=ip)

    def sign_in(self, customer: SeededCustomer) -> None:
        body = {"email": customer.email, "password": PASSWORD}
        self.api("account", "POST", "/v1/auth/login", body=body, ip=self.address_of(customer))

    def buy(self, customer: SeededCustomer, flash: bool) -> dict[str, Any] | None:
        """A buying session up to the checkout; the order placed (None if refused)."""
        merchant = self.merchant_for(customer)
        if self.rng.random() < self.plan.sign_in_share:
            self.sign_in(customer)
        self.browse(customer, merchant)
        ip, token = self.address_of(customer), self.token(customer.user_id)
        self.api("account", "GET", "/v1/me", token=token, ip=ip)
        self.api(
            "browse", "GET", f"/v1/products/{self.rng.choice(merchant.products).product_id}", ip=ip
        )
        for product in self.rng.sample(merchant.products, k=min(2, len(merchant.products))):
            self.api(
                "cart",
                "PUT",
                f"/v1/cart/items/{product.product_id}",
                token=token,
                body={"quantity": self.rng.randint(1, 3)},
                ip=ip,
            )
        address = {
            "line1": "Jl. Pelanggan 1",
            "city": customer.city,
            "postal_code": "10110",
            "lat": round(customer.lat, 5),
            "lon": round(customer.lon, 5),
        }
        body: dict[str, Any] = {"delivery_address": address}
        if flash:
            body["promo_code"] = FLASH_CODE
        self.api("cart", "POST", "/v1/cart/quote", token=token, body=body, ip=ip)
        if self.rng.random() < self.plan.cod_share:
            body["payment_method"] = "cash_on_delivery"
        key = (("Idempotency-Key", f"sim-{uuid.uuid4().hex}"),)
        status, order = self.api(
            "checkout", "POST", "/v1/orders", token=token, body=body, headers=key, ip=ip
        )
        if status != 201 or "id" not in order:
            return None
        self.api("order", "GET", f"/v1/orders/{order['id']}", token=token, ip=ip)
        return order

    def pay(self, order: dict[str, Any]) -> None:
        """The provider's webhook: the payment succeeded (signed as the simulator signs)."""
        from warung_bench.warm import signed_payment_succeeded

        payments = self.runtime.functions["PaymentsFunction"]
        with self.unrecorded():
            raw, header, signature = signed_payment_succeeded(
                payments, self.webhook_secret, order, prefix="evt_sim"
            )
        self.api(
            "pay",
            "POST",
            "/v1/payments/webhook",
            raw_body=raw,
            headers=((header, signature),),
            ip="203.0.113.200",
        )

    def merchant_moves(self, merchant: SeededMerchant, order_id: str) -> None:
        """The merchant's list of orders, then the order through to delivered."""
        token = self.token(merchant.owner_id)
        ip = "198.51.100.77"
        self.api(
            "status", "GET", f"/v1/merchants/{merchant.merchant_id}/orders", token=token, ip=ip
        )
        for status in ("accepted", "preparing", "out_for_delivery", "delivered"):
            self.api(
                "status",
                "POST",
                f"/v1/orders/{order_id}/status",
                token=token,
                body={"status": status},
                ip=ip,
            )

    # ------------------------------------------------------------ background

    def pipeline(self) -> None:
        """The outbox relay and the worker, until the queue is empty (a few rounds)."""
        from warung_local.sources import SqsPoller, StreamPoller

        relay = self.runtime.driver("OutboxRelayFunction", StreamPoller)
        worker = self.runtime.driver("WorkerFunction", SqsPoller)
        assert isinstance(relay, StreamPoller)
        assert isinstance(worker, SqsPoller)
        for _ in range(50):
            # step(): records delivered or dropped by the relay's filter, both progress.
            moved = self._timed("OutboxRelayFunction", relay.step)
            moved += self._timed("WorkerFunction", lambda: worker.poll_once(wait=False))
            if not moved:
                return

    def catch_up(self) -> None:
        """Before the day: the relay starts after the population's stream records (in AWS the
        population would have been written long before; reading past them here, 100 records
        a call, would take minutes and is not the day's work)."""
        from warung_local.sources import StreamPoller

        relay = self.runtime.driver("OutboxRelayFunction", StreamPoller)
        assert isinstance(relay, StreamPoller)
        with self.unrecorded():
            for shard_id in list(relay._iterators):
                relay._iterators[shard_id] = relay.streams.get_shard_iterator(
                    StreamArn=relay.stream_arn, ShardId=shard_id, ShardIteratorType="LATEST"
                )["ShardIterator"]

    def _timed(self, function: str, step: Callable[[], int]) -> int:
        moved = 0
        with self._timing(function, kept=lambda: bool(moved)):
            moved = step()
        return int(moved)

    def expire(self) -> None:
        """The expiry schedule's event at the simulated moment."""
        from warung_local.sources import ScheduleDriver

        driver = self.runtime.driver("OrderExpiryFunction", ScheduleDriver)
        assert isinstance(driver, ScheduleDriver)
        self.invoke("OrderExpiryFunction", driver.event(self.moment))

    # ------------------------------------------------------------ the day

    def run(self) -> DayResult:
        """Every hour of the day, then the expiry of what was left unpaid."""
        from warung_bench.warm import payment_webhook_secret

        started = time.perf_counter()
        self.webhook_secret = payment_webhook_secret(
            self.runtime, self.runtime.functions["PaymentsFunction"]
        )
        day_start = self.moment
        next_expiry = day_start + EXPIRY_EVERY
        done = 0
        for hour, orders in self.plan.orders_per_hour().items():
            self.period = f"{hour:02d}:00"
            self.recorder.period = self.period
            hour_start = datetime.fromisoformat(f"{self.plan.date}T{hour:02d}:00:00+07:00")
            step = timedelta(seconds=3600 / orders)
            for n in range(orders):
                self.set_clock((hour_start + step * n).astimezone(UTC))
                while self.moment >= next_expiry:
                    self.expire()
                    next_expiry += EXPIRY_EVERY
                self.one_order(hour)
                done += 1
                if done % PIPELINE_EVERY_ORDERS == 0:
                    self.pipeline()
            self.progress(
                f"   {self.period} Jakarta: {orders} orders ({done} so far, "
                f"{time.perf_counter() - started:.0f} s)"
            )
        self.period = "23:00"
        self.recorder.period = self.period
        self.set_clock(self.moment + timedelta(minutes=20))
        self.expire()
        self.pipeline()
        self.result.elapsed_s = time.perf_counter() - started
        return self.result

    def one_order(self, hour: int) -> None:
        """One order's share of the day: a buying session and the sessions that do not buy."""
        customers = self.world.customers
        for _ in range(self.plan.browse_sessions_per_order):
            self.window_shopping(self.rng.choice(customers))
        customer = self.rng.choice(customers)
        flash = hour == self.plan.flash_hour and self.rng.random() < self.plan.flash_share
        order = self.buy(customer, flash)
        if order is None:
            return
        self.result.orders_by_period[self.period] += 1
        merchant = next(m for m in self.world.merchants if m.merchant_id == order["merchant_id"])
        if order.get("status") == "placed":  # cash on delivery
            self.merchant_moves(merchant, order["id"])
            return
        roll = self.rng.random()
        if roll < self.plan.cancel_share:
            token = self.token(customer.user_id)
            self.api("order", "POST", f"/v1/orders/{order['id']}/cancel", token=token)
        elif roll < self.plan.cancel_share + self.plan.paid_share:
            self.pay(order)
            self.merchant_moves(merchant, order["id"])
        # else: left unpaid, the expiry job takes it back
