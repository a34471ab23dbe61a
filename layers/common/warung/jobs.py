"""The job types of the asynchronous path: what a producer enqueues, what the worker runs.

A producer builds a payload model and adds it to its business transaction::

    tx.extend([enqueue(OrderStatusEmail(to=..., name=..., order_id=..., ...),
                       correlation_id=meta.request_id)])

The worker looks the ``job_type`` up in its registry (type → payload model → handler), so
adding a job type is a payload model here and a handler there.
"""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from warung.observability import mask_email
from warung.outbox import OutboxJob, outbox_write


class JobPayload(BaseModel):
    """Base of every job payload; ``job_type`` names it on the queue. Built on first use
    (``defer_build``): a function that enqueues one kind of job builds that one."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    job_type: ClassVar[str]


class EmailLine(BaseModel):
    """One order line as an e-mail shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    name: str
    quantity: int = Field(ge=1)
    line_total: int = Field(ge=0, description="rupiah")


class EmailJob(JobPayload):
    """An e-mail to one recipient."""

    to: str = Field(min_length=3, max_length=254)


class OneTimeLinkEmail(EmailJob):
    """An e-mail whose point is a single-use link. The link is sealed (``warung.links``,
    bound to this job) so that its token is at rest nowhere but in the e-mail; it may also
    say that no account uses the address, and then the worker sends nothing. No name: the
    address may not be the account holder's (docs/product.md)."""

    sealed_link: str = Field(min_length=1, max_length=1024)


class VerificationEmail(OneTimeLinkEmail):
    """Confirm an e-mail address after sign-up."""

    job_type: ClassVar[str] = "email.verification"
    expires_in_hours: int = Field(gt=0)


class PasswordResetEmail(OneTimeLinkEmail):
    """A single-use password reset link."""

    job_type: ClassVar[str] = "email.password_reset"
    expires_in_minutes: int = Field(gt=0)


class InvitationEmail(EmailJob):
    """An invitation to join a merchant. It carries the merchant's name, the role and a link
    to the app, and nothing else the inviter wrote; ``has_account`` says whether the address
    signs in or signs up to accept."""

    job_type: ClassVar[str] = "email.invitation"
    merchant_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    invitations_url: str
    has_account: bool
    expires_in_days: int = Field(gt=0)


class OrderEmail(EmailJob):
    """An e-mail about one order. It names the order by its number (``WRG-7K4Q-2M9X``);
    ``order_number`` is ``None`` only for an order placed before order numbers existed (or
    a job queued before then), which the e-mail names by its id instead."""

    name: str = Field(max_length=200, description="the greeting; escaped on render")
    order_id: str
    order_number: str | None = None


class OrderPaidEmail(OrderEmail):
    """Receipt to the customer once the payment succeeded."""

    job_type: ClassVar[str] = "email.order_paid"
    merchant_name: str
    items: list[EmailLine]
    subtotal: int
    discount: int
    delivery_fee: int
    tax: int
    total: int


class MerchantNewOrderEmail(OrderEmail):
    """A new paid order (or a cash-on-delivery order, placed), to the merchant's owner."""

    job_type: ClassVar[str] = "email.merchant_new_order"
    merchant_name: str
    items: list[EmailLine]
    total: int
    delivery_address: str
    notes: str | None = None
    payment_method: Literal["online", "cash_on_delivery"] = "online"


class OrderStatusEmail(OrderEmail):
    """The order moved on (accepted, preparing, out for delivery, delivered, ...)."""

    job_type: ClassVar[str] = "email.order_status"
    merchant_name: str
    status: str
    reason: str | None = None


class RefundEmail(OrderEmail):
    """Money went back to the customer."""

    job_type: ClassVar[str] = "email.refund"
    merchant_name: str
    amount: int = Field(ge=0)
    reason: str | None = None


class WebhookDelivery(JobPayload):
    """A signed POST of ``data`` to the merchant's current ``webhook_url``.

    The URL and signing secret are read when sending, not stored in the job, so a rotated
    secret or a changed URL applies to deliveries still in the queue.
    """

    job_type: ClassVar[str] = "webhook.deliver"
    merchant_id: str
    event: Literal["order.paid", "order.placed", "order.cancelled"]
    event_id: str
    data: dict[str, Any]


class PaymentSimulation(JobPayload):
    """The payment simulator's side of a payment (local and dev stages): it sends the
    provider's signed webhook for ``outcome``, as a real provider would."""

    job_type: ClassVar[str] = "payment.simulate"
    payment_id: str
    order_id: str
    amount: int = Field(ge=0)
    currency: str
    outcome: Literal["succeeded", "failed"]


class RefundPayment(JobPayload):
    """Ask the payment's provider to refund it; the provider confirms later with a
    ``refund.succeeded`` webhook."""

    job_type: ClassVar[str] = "payment.refund"
    provider: str
    payment_id: str
    order_id: str
    amount: int = Field(ge=0)
    currency: str


JOB_PAYLOADS: dict[str, type[JobPayload]] = {
    model.job_type: model
    for model in (
        VerificationEmail,
        PasswordResetEmail,
        InvitationEmail,
        OrderPaidEmail,
        MerchantNewOrderEmail,
        OrderStatusEmail,
        RefundEmail,
        WebhookDelivery,
        PaymentSimulation,
        RefundPayment,
    )
}


def enqueue(
    payload: JobPayload, *, correlation_id: str, job_id: str | None = None, table: str | None = None
) -> tuple[dict[str, Any], None]:
    """The transaction write that enqueues ``payload`` (see :mod:`warung.outbox`).

    ``job_id`` may be given to make the job itself idempotent (the outbox put is conditional).
    """
    fields = payload.model_dump(mode="json")
    job = OutboxJob(payload.job_type, fields, correlation_id=correlation_id)
    if job_id:
        job = OutboxJob(payload.job_type, fields, correlation_id=correlation_id, job_id=job_id)
    return outbox_write(job, table)


def masked_target(
    job_type: str, payload: Mapping[str, Any], webhook_url: str | None = None
) -> str | None:
    """Whom a job was for, fit for an operator's list: an e-mail job's address masked
    (``us***@example.com``), a webhook's host only (``hooks.example.com``), else ``None``.
    Nothing else of a payload (its links, its data) is ever shown."""
    model = JOB_PAYLOADS.get(job_type)
    if model is not None and issubclass(model, EmailJob) and isinstance(payload.get("to"), str):
        return mask_email(str(payload["to"]))
    if model is WebhookDelivery and webhook_url:
        return urlsplit(webhook_url).hostname or None
    return None
