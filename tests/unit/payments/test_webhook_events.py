"""A provider's webhook request is believed only when its signature proves it (docs/product.md,
Payments): ``Warung-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``,
within 300 s, over the exact bytes received."""

from __future__ import annotations

import json

import pytest

from warung.errors import InvalidSignature, ValidationFailed
from warung.ordering.payments import EventData, ProviderEvent, SimulatorProvider
from warung.webhooks import signature_header

SECRET = "whsec_payments_unit_secret"
NOW = 1_795_000_000


def an_event() -> ProviderEvent:
    data = EventData(payment_id="pay_1", order_id="ord_1", amount=64_500, currency="IDR")
    return ProviderEvent(id="evt_1", type="payment.succeeded", data=data)


def signed(at: int = NOW, secret: str = SECRET) -> tuple[bytes, str]:
    return SimulatorProvider(secret).signed(an_event(), now=at)


def parse(headers: dict[str, str], body: bytes, now: int = NOW) -> ProviderEvent:
    return SimulatorProvider(SECRET).parse_event(headers, body, now=now)


def test_signed_event_is_parsed() -> None:
    body, signature = signed()
    event = parse({"Warung-Signature": signature}, body)
    assert (event.id, event.type, event.data.amount) == ("evt_1", "payment.succeeded", 64_500)


def test_header_name_is_case_insensitive() -> None:
    body, signature = signed()
    assert parse({"warung-signature": signature}, body).id == "evt_1"


def test_missing_header_is_refused() -> None:
    body, _ = signed()
    with pytest.raises(InvalidSignature, match="missing"):
        parse({"Content-Type": "application/json"}, body)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=1795000000",  # no v1
        "v1=" + "a" * 64,  # no t
        f"t=abc,v1={'a' * 64}",
        "t=1795000000,v1=not-hex",
        f"t=1795000000,t=1795000001,v1={'a' * 64}",
        "t=1795000000,v1=" + "a" * 63,
        "t=1795000000," + ",".join(["v1=" + "a" * 64] * 20),  # longer than any rotation needs
    ],
)
def test_malformed_header_is_refused(header: str) -> None:
    body, _ = signed()
    with pytest.raises(InvalidSignature):
        parse({"Warung-Signature": header}, body)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamp_within_300_seconds_either_way_is_accepted(offset: int) -> None:
    body, signature = signed(at=NOW + offset)
    assert parse({"Warung-Signature": signature}, body).id == "evt_1"


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_timestamp_beyond_300_seconds_is_refused(offset: int) -> None:
    body, signature = signed(at=NOW + offset)
    with pytest.raises(InvalidSignature, match="300 s"):
        parse({"Warung-Signature": signature}, body)


def test_body_changed_after_signing_is_refused() -> None:
    body, signature = signed()
    tampered = json.loads(body)
    tampered["data"]["amount"] = 1
    with pytest.raises(InvalidSignature, match="does not match"):
        parse({"Warung-Signature": signature}, json.dumps(tampered).encode())


def test_whitespace_added_after_signing_is_refused() -> None:
    # The raw bytes are what was signed, not the JSON they parse to.
    body, signature = signed()
    with pytest.raises(InvalidSignature):
        parse({"Warung-Signature": signature}, body + b" ")


def test_signature_with_another_secret_is_refused() -> None:
    body, signature = signed(secret="whsec_someone_else")
    with pytest.raises(InvalidSignature):
        parse({"Warung-Signature": signature}, body)


def test_timestamp_swapped_after_signing_is_refused() -> None:
    body, signature = signed(at=NOW - 10)
    mac = signature.split("v1=")[1]
    with pytest.raises(InvalidSignature):
        parse({"Warung-Signature": f"t={NOW},v1={mac}"}, body)


def test_two_v1_values_during_a_rotation_one_matching_is_accepted() -> None:
    body, _ = signed()
    old = signature_header("whsec_old_secret", body, NOW).split("v1=")[1]
    new = signature_header(SECRET, body, NOW).split("v1=")[1]
    for header in (f"t={NOW},v1={old},v1={new}", f"t={NOW},v1={new},v1={old}"):
        assert parse({"Warung-Signature": header}, body).id == "evt_1"


def test_two_v1_values_neither_matching_are_refused() -> None:
    body, _ = signed()
    one = signature_header("whsec_old_secret", body, NOW).split("v1=")[1]
    two = signature_header("whsec_other_secret", body, NOW).split("v1=")[1]
    with pytest.raises(InvalidSignature):
        parse({"Warung-Signature": f"t={NOW},v1={one},v1={two}"}, body)


def test_unknown_schemes_beside_v1_are_ignored() -> None:
    body, signature = signed()
    assert parse({"Warung-Signature": f"{signature},v0=abc,v2=def"}, body).id == "evt_1"


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "evt_2", "type": "payment.disputed", "data": {}},
        {"id": "evt_3", "type": "payment.succeeded"},
        {
            "id": "evt_4",
            "type": "payment.succeeded",
            "data": {"payment_id": "p", "order_id": "o", "amount": "64500", "currency": "IDR"},
        },
        {
            "id": "evt 5",
            "type": "payment.succeeded",
            "data": {"payment_id": "p", "order_id": "o", "amount": 1, "currency": "IDR"},
        },
    ],
)
def test_signed_body_that_is_not_an_event_is_422(payload: dict[str, object]) -> None:
    body = json.dumps(payload).encode()
    with pytest.raises(ValidationFailed):
        parse({"Warung-Signature": signature_header(SECRET, body, NOW)}, body)
