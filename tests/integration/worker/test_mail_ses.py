"""The worker's e-mails go through SESv2 as the emulation (and so SES) accepts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.ses.models import ses_backends

from warung import clients
from warung.jobs import EmailLine, OrderPaidEmail
from warung.settings import get_settings
from warung_local.emulation import Emulation, aws_client
from warung_local.template import LOCAL_REGION
from worker import mail

ROOT = Path(__file__).resolve().parents[3]

SENDER = "orders@warung.test"


@pytest.fixture(scope="module")
def ses() -> Iterator[tuple[str, Any]]:
    """An emulation with the sender identity verified, and a SESv2 client for it."""
    with Emulation() as emulation:
        client = aws_client("sesv2", emulation.endpoint_url)
        client.create_email_identity(EmailIdentity=SENDER)
        yield emulation.endpoint_url, client


def _sent_message(message_id: str) -> Any:
    """The message as the emulation stored it (moto keeps the HTML part of a simple e-mail)."""
    for regions in ses_backends.values():
        for backend in regions.values():
            for message in backend.sent_messages:
                if message.id == message_id:
                    return message
    raise AssertionError(f"SES has no message {message_id}")


def order_paid() -> OrderPaidEmail:
    return OrderPaidEmail(
        to="budi@example.com",
        name="Budi <b>Santoso</b>",
        order_id="ord_01JSES",
        merchant_name="Warung Bu Tini",
        items=[EmailLine(name="Nasi goreng", quantity=2, line_total=50000)],
        subtotal=50000,
        discount=0,
        delivery_fee=9000,
        tax=5500,
        total=64500,
    )


def test_order_paid_email_from_a_verified_sender_is_accepted(ses: tuple[str, Any]) -> None:
    _, client = ses
    job = order_paid()

    message_id = mail.send(
        client, sender=SENDER, job=job, rendered=mail.render(job), idempotency_token="job#01JSES"
    )

    assert isinstance(message_id, str)
    assert message_id
    stored = _sent_message(message_id)
    assert stored.destinations == {"ToAddresses": ["budi@example.com"]}
    assert stored.subject == "Payment received for your order ord_01JSES from Warung Bu Tini"
    assert "Budi &lt;b&gt;Santoso&lt;/b&gt;" in stored.body
    assert "Rp64.500" in stored.body


def test_an_unverified_sender_is_rejected_by_ses(ses: tuple[str, Any]) -> None:
    _, client = ses
    job = order_paid()

    with pytest.raises(ClientError) as raised:
        mail.send(client, sender="nobody@unverified.test", job=job, rendered=mail.render(job))

    assert raised.value.response["Error"]["Code"] == "MessageRejected"


def test_the_worker_client_factory_reaches_the_endpoint_of_the_environment(
    ses: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint_url, _ = ses
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    monkeypatch.setenv("AWS_REGION", LOCAL_REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    get_settings.cache_clear()
    clients.aws_client.cache_clear()
    try:
        client = mail.sesv2_client()
        job = order_paid()

        message_id = mail.send(client, sender=SENDER, job=job, rendered=mail.render(job))

        assert message_id
        assert mail.sesv2_client() is client
    finally:
        get_settings.cache_clear()
        clients.aws_client.cache_clear()
