"""Opening the provider's transaction of an order (docs/decisions/0020-midtrans-snap.md).

Checkout commits the order and its payment first, then asks the provider, then stores the
provider's ``action_url`` on the payment. A provider that does not answer costs nothing:
the order stays ``pending_payment`` without an ``action_url``, and ``GET /v1/payments/{id}``
asks again with the same idempotency key (the order id), so the provider opens at most one
transaction per order whatever the number of tries. The provider's expiry is the order's
payment window, counted from the order's creation, so that its page never outlives the
order.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from warung.dynamo import Transaction
from warung.errors import Conflict
from warung.observability import MetricUnit, logger, metrics
from warung.ordering.payments import PaymentProvider, ProviderUnavailable, provider_named
from warung.secrets import get_secret
from warung.settings import get_settings
from warung.store.payments import SIMULATOR, Payment, payment_key

JAKARTA = timezone(timedelta(hours=7))


def configured_provider() -> PaymentProvider:
    """This stage's provider, with its secret (read from Secrets Manager on first use)."""
    settings = get_settings()
    if settings.payment_provider == SIMULATOR:
        return provider_named(SIMULATOR, secret="")
    return provider_named(
        settings.payment_provider, secret=get_secret(settings.payment_provider_secret_arn)
    )


def provider_start_time(created_at: str) -> str:
    """Midtrans's ``expiry.start_time`` of an order created at ``created_at`` (RFC 3339):
    ``yyyy-MM-dd HH:mm:ss +0700``."""
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(JAKARTA)
    return moment.strftime("%Y-%m-%d %H:%M:%S +0700")


def open_transaction(payment: Payment) -> Payment:
    """The payment with its ``action_url``: opened now if it has none yet and is still
    pending. A provider that does not answer leaves it without one (logged, counted)."""
    if (
        payment.action_url
        or payment.status != "pending"
        # only payments through this stage's real provider have a page to open (not the
        # simulator's, nor any other kind of payment)
        or payment.provider in (SIMULATOR, "")
        or payment.provider != get_settings().payment_provider
    ):
        return payment
    provider = configured_provider()
    try:
        checkout = provider.create(
            order_id=payment.order_id,
            amount=payment.amount,
            currency=payment.currency,
            expiry_minutes=get_settings().order_payment_minutes,
            start=provider_start_time(payment.created_at),
        )
    except ProviderUnavailable as error:
        metrics.add_metric(name="PaymentProviderUnavailable", unit=MetricUnit.Count, value=1)
        logger.warning(
            "payment provider unavailable; the payment page is opened later",
            extra={"payment_id": payment.payment_id, "reason": str(error)},
        )
        return payment
    if not checkout.action_url:
        return payment
    _store_action_url(payment, checkout.action_url)
    return Payment(**{**payment.__dict__, "action_url": checkout.action_url})


def _store_action_url(payment: Payment, action_url: str) -> None:
    """Keep the first ``action_url`` (a concurrent opener got the same one: same key)."""
    tx = Transaction().update(
        get_settings().table_name,
        payment_key(payment.payment_id),
        "SET action_url = :url",
        condition="attribute_exists(pk) AND attribute_not_exists(action_url)",
        values={":url": action_url},
        conflict=Conflict("The payment's page was opened meanwhile."),
    )
    try:
        tx.commit()
    except Conflict:
        logger.info("payment page stored meanwhile", extra={"payment_id": payment.payment_id})
