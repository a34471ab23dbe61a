"""The Midtrans adapter's HTTP manners, without a network: hosts fixed by the stage, retries
only on timeouts and 5xx with one idempotency key, the server key sent as Basic
authentication and never shown."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import urllib3

from warung.ordering.midtrans import ATTEMPTS, MidtransProvider, RefundNotSupported
from warung.ordering.payments import ProviderUnavailable
from warung.settings import get_settings

KEY = "SB-Mid-server-unit-test"


@dataclass
class Answer:
    status: int
    data: bytes


@dataclass
class FakeHttp:
    """urllib3's PoolManager as the adapter uses it: answers (or errors) in order."""

    answers: list[Answer | Exception]
    sent: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        self.sent.append({"method": method, "url": url, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def provider(*answers: Answer | Exception) -> tuple[MidtransProvider, FakeHttp]:
    http = FakeHttp(list(answers))
    adapter = MidtransProvider(
        KEY,
        app_base="https://app.sandbox.midtrans.com",
        api_base="https://api.sandbox.midtrans.com",
        http=http,  # type: ignore[arg-type]
    )
    return adapter, http


def created() -> Answer:
    body = {
        "token": "t1",
        "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/t1",
    }
    return Answer(201, json.dumps(body).encode())


def create(adapter: MidtransProvider) -> Any:
    return adapter.create(
        order_id="ord_1",
        amount=64_500,
        currency="IDR",
        expiry_minutes=15,
        start="2026-12-05 10:00:00 +0700",
    )


def test_create_sends_the_order_total_and_expiry_with_the_order_id_as_key() -> None:
    adapter, http = provider(created())

    checkout = create(adapter)

    assert checkout.action_url == "https://app.sandbox.midtrans.com/snap/v4/redirection/t1"
    (sent,) = http.sent
    assert (sent["method"], sent["url"]) == (
        "POST",
        "https://app.sandbox.midtrans.com/snap/v1/transactions",
    )
    assert sent["headers"]["X-Idempotency-Key"] == "ord_1"
    assert (
        sent["headers"]["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    )
    body = json.loads(sent["body"])
    assert body["transaction_details"] == {"order_id": "ord_1", "gross_amount": 64_500}
    assert body["expiry"] == {
        "start_time": "2026-12-05 10:00:00 +0700",
        "unit": "minutes",
        "duration": 15,
    }


def test_timeouts_and_5xx_are_retried_with_the_same_key() -> None:
    adapter, http = provider(urllib3.exceptions.TimeoutError("slow"), Answer(503, b""), created())

    assert create(adapter).action_url is not None
    assert len(http.sent) == 3
    assert {s["headers"]["X-Idempotency-Key"] for s in http.sent} == {"ord_1"}


def test_a_provider_that_never_answers_is_unavailable_after_bounded_tries() -> None:
    adapter, http = provider(*[Answer(502, b"")] * ATTEMPTS)

    with pytest.raises(ProviderUnavailable):
        create(adapter)
    assert len(http.sent) == ATTEMPTS


def test_a_4xx_is_not_retried() -> None:
    adapter, http = provider(Answer(401, b'{"error_messages": ["unauthorized"]}'))

    with pytest.raises(RuntimeError, match="refused"):
        create(adapter)
    assert len(http.sent) == 1


def test_a_refund_midtrans_cannot_make_is_refund_not_supported() -> None:
    adapter, _ = provider(Answer(200, b'{"status_code": "412", "status_message": "cannot"}'))

    with pytest.raises(RefundNotSupported):
        adapter.refund(payment_id="pay_1", order_id="ord_1", amount=64_500, currency="IDR")


def test_the_server_key_is_never_shown() -> None:
    adapter, _ = provider()

    assert KEY not in repr(adapter)
    assert KEY not in str(adapter)


@pytest.mark.parametrize(
    ("stage", "app", "api"),
    [
        ("prod", "https://app.midtrans.com", "https://api.midtrans.com"),
        ("dev", "https://app.sandbox.midtrans.com", "https://api.sandbox.midtrans.com"),
    ],
)
def test_the_hosts_come_from_the_stage(
    stage: str, app: str, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("PAYMENT_PROVIDER", "midtrans")
    monkeypatch.delenv("MIDTRANS_BASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        adapter = MidtransProvider.for_stage(KEY)
    finally:
        get_settings.cache_clear()

    assert (adapter.app_base, adapter.api_base) == (app, api)


def test_a_stand_in_address_is_refused_outside_local_and_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("MIDTRANS_BASE_URL", "http://127.0.0.1:3100")
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="MIDTRANS_BASE_URL"):
            get_settings()
    finally:
        get_settings.cache_clear()
