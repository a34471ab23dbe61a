"""The payment use cases: each route calls exactly one of these.

A provider event's effect, its audit entries, its jobs and the record of the event commit
in one transaction, so the same event id can never act twice: the record's put is
conditional. Nothing here knows HTTP; nothing here knows keys (``repository`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from payments import repository
from payments import rules as domain
from payments.repository import ChangedMeanwhile, DuplicateEvent
from payments.rules import Decision, Outcome
from warung.audit import audited
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import Transaction
from warung.errors import Conflict, InvalidSignature, NotFound, ValidationFailed
from warung.ids import rfc3339, utc_now
from warung.jobs import JobPayload, PaymentSimulation, RefundPayment
from warung.observability import MetricUnit, logger, metrics
from warung.ordering.notifications import enqueue_all, merchant_owners, refund_email, status_jobs
from warung.ordering.payments import (
    SIMULATOR,
    EventData,
    Notification,
    PaymentProvider,
    ProviderEvent,
    provider_named,
)
from warung.ordering.status import change_status
from warung.secrets import get_secret
from warung.settings import get_settings
from warung.store.orders import Order
from warung.store.payments import Payment

SYSTEM: Final = "system"
MAX_ATTEMPTS: Final = 3
NO_SUCH_PAYMENT: Final = "No such payment."


@dataclass(frozen=True)
class Receipt:
    """What became of a provider's event."""

    duplicate: bool
    outcome: Outcome | None = None


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


# ---------------------------------------------------------------- the customer's routes


def payment_for(caller: Caller, payment_id: str) -> Payment:
    """The caller's own payment; anyone else's is 404, as if it did not exist."""
    payment = repository.get_payment(payment_id)
    if payment is None or payment.customer_id != caller.user_id:
        raise NotFound(NO_SUCH_PAYMENT)
    return payment


def current_payment(caller: Caller, payment_id: str) -> Payment:
    """The caller's payment with its ``action_url``: if checkout could not open the
    provider's transaction in time, it is opened now, with the same idempotency key (the
    order id), so that the provider never holds two for one order."""
    payment = payment_for(caller, payment_id)
    if payment.provider == SIMULATOR or payment.action_url or payment.status != domain.PENDING:
        return payment
    from warung.ordering.provider_transactions import open_transaction

    return open_transaction(payment)


def open_order_payment(order_id: str) -> str | None:
    """The ``action_url`` of an order's payment, opened now if checkout's order has none yet
    (the opener function, which checkout invokes). Everything is read here: the caller
    names the order, never the amount. None for an order without an open payment with a
    real provider, or when the provider does not answer."""
    order = repository.get_order(order_id)
    if order is None:
        logger.warning("no such order to open a payment for", extra={"order_id": order_id})
        return None
    payment = repository.get_payment(order.payment_id)
    if payment is None or payment.order_id != order.order_id or payment.amount != order.total:
        logger.error("the order's payment does not match it", extra={"order_id": order_id})
        return None
    if payment.provider == SIMULATOR or payment.status != domain.PENDING:
        return payment.action_url
    from warung.ordering.provider_transactions import open_transaction

    return open_transaction(payment).action_url


def request_simulation(caller: Caller, payment_id: str, outcome: str, meta: RequestMeta) -> None:
    """Queue the simulator's webhook for the caller's open payment (local and dev stages).

    The job and its audit entry commit only while the payment is still open.
    """
    if not get_settings().payment_simulator:
        raise NotFound("There is no payment simulator on this stage.")
    payment = payment_for(caller, payment_id)
    domain.check_simulatable(payment.status, payment.provider, SIMULATOR)
    job = PaymentSimulation(
        payment_id=payment.payment_id,
        order_id=payment.order_id,
        amount=payment.amount,
        currency=payment.currency,
        outcome=outcome,  # type: ignore[arg-type]  # validated by the route's model
    )
    tx = repository.check_payment_open(Transaction(), payment, set(domain.OPEN))
    enqueue_all(tx, [job], correlation_id=meta.request_id)
    entry = audited(
        caller.user_id,
        "payment.simulation_requested",
        f"payment:{payment.payment_id}",
        meta,
        outcome=outcome,
        order_id=payment.order_id,
    )
    tx.extend([entry])
    tx.commit()


# ---------------------------------------------------------------- the provider's webhook


def webhook_provider() -> PaymentProvider:
    """The provider whose notifications the webhook receives (this stage's), with its
    secret: the simulator's webhook secret, or the provider's server key."""
    settings = get_settings()
    if settings.payment_simulator:
        return provider_named(SIMULATOR, secret=get_secret(settings.payment_webhook_secret_arn))
    from warung.ordering.provider_transactions import configured_provider

    return configured_provider()


def receive_webhook(
    headers: Mapping[str, str], body: bytes, meta: RequestMeta, *, now: datetime | None = None
) -> Receipt:
    """Verify a notification (400 ``invalid_signature``, counted), confirm it with the
    provider's own record, and apply what that record says."""
    moment = now or utc_now()
    provider = webhook_provider()
    try:
        notification = provider.verify_notification(headers, body, now=int(moment.timestamp()))
    except InvalidSignature as error:
        _count("WebhookSignatureFailures")
        logger.warning(
            "payment webhook refused: bad signature",
            extra={"provider": provider.name, "reason": error.detail, "body_bytes": len(body)},
        )
        raise
    except ValidationFailed:
        logger.warning("payment webhook refused: not an event", extra={"provider": provider.name})
        raise
    if notification.event is not None:  # the simulator: Warung's own signed event
        return apply_event(provider.name, notification.event, meta, now=moment)
    return _confirmed(provider, notification, meta, now=moment)


def _confirmed(
    provider: PaymentProvider, notification: Notification, meta: RequestMeta, *, now: datetime
) -> Receipt:
    """Act on what the provider's status API says, never on the notification's body:
    a status that disagrees with the notification changes nothing and is audited."""
    status = provider.fetch_status(notification.order_id)
    order = repository.get_order(notification.order_id)
    payment_id = order.payment_id if order else "unknown"
    claimed_amount = _whole(notification.claimed_amount)
    if status.raw_status != notification.claimed_status or status.amount != claimed_amount:
        _count("PaymentNotificationsDisputed")
        logger.warning(
            "payment notification disagrees with the provider's record: nothing changes",
            extra={"provider": provider.name, "order_id": notification.order_id},
        )
        entry = audited(
            SYSTEM,
            "payment.notification_disputed",
            f"payment:{payment_id}",
            meta,
            actor_type="system",
            order_id=notification.order_id,
            claimed={"status": notification.claimed_status, "amount": claimed_amount},
            provider_record={"status": status.raw_status, "amount": status.amount},
        )
        Transaction().extend([entry]).commit()
        return Receipt(duplicate=False)
    kind = domain.event_type_of(status.kind)
    if kind is None or status.amount is None:  # still pending, or nothing to act on
        logger.info(
            "payment notification with nothing to do",
            extra={"provider": provider.name, "order_id": notification.order_id},
        )
        return Receipt(duplicate=False)
    event = ProviderEvent(
        id=f"{status.transaction_id or notification.transaction_id}.{status.raw_status}",
        type=kind,
        data=EventData(
            payment_id=payment_id,
            order_id=notification.order_id,
            amount=status.amount,
            currency=status.currency,
        ),
    )
    return apply_event(provider.name, event, meta, now=now)


def _whole(amount: str) -> int | None:
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError):
        return None
    return int(value) if value.is_finite() and value == value.to_integral_value() else None


def apply_event(
    provider: str, event: ProviderEvent, meta: RequestMeta, *, now: datetime | None = None
) -> Receipt:
    """The effect of a verified event, once per event id.

    The event's record, the payment and its order are read in one batch, the decision taken
    (``domain.decide``) and written with the event's record; if the payment or the order
    moved meanwhile, all of it is done again.
    """
    moment = now or utc_now()
    log = {"provider": provider, "event_id": event.id, "event_type": event.type}
    for _attempt in range(MAX_ATTEMPTS):
        # One round trip (again after a conflict) for the cheap duplicate check and what the
        # decision needs; the conditional put of the event's record below is the guarantee.
        seen, payment, order = repository.event_payment_order(
            provider, event.id, event.data.payment_id, event.data.order_id
        )
        if seen:
            logger.info("payment event already received", extra=log)
            return Receipt(duplicate=True)
        decision = domain.decide(_event_facts(event), _payment_facts(payment), _order_facts(order))
        tx = Transaction()
        repository.record_event(
            tx,
            provider,
            event.id,
            fields={
                "event_type": event.type,
                "payment_id": event.data.payment_id,
                "order_id": event.data.order_id,
                "amount": event.data.amount,
                "currency": event.data.currency,
                "outcome": str(decision.outcome),
                "received_at": rfc3339(moment),
                "request_id": meta.request_id,
            },
            now_epoch=int(moment.timestamp()),
        )
        _write_effect(tx, decision, event, payment, order, meta, at=rfc3339(moment))
        try:
            tx.commit()
        except DuplicateEvent:
            logger.info("payment event already received", extra=log)
            return Receipt(duplicate=True)
        except ChangedMeanwhile:
            logger.info("payment or order moved while applying an event; again", extra=log)
            continue
        _report(decision, event, payment, log)
        return Receipt(duplicate=False, outcome=decision.outcome)
    raise Conflict("The payment keeps changing; the provider will retry.")


def _write_effect(
    tx: Transaction,
    decision: Decision,
    event: ProviderEvent,
    payment: Payment | None,
    order: Order | None,
    meta: RequestMeta,
    *,
    at: str,
) -> None:
    """The writes of ``decision``, after the event's record, in ``tx``."""
    resource = f"payment:{event.data.payment_id}"
    seen = {"provider_event": event.id, "event_type": event.type}
    if payment is None or order is None or decision.outcome in (Outcome.IGNORED, Outcome.NO_EFFECT):
        tx.extend(
            [
                audited(
                    SYSTEM,
                    "payment.event_ignored",
                    resource,
                    meta,
                    actor_type="system",
                    **seen,
                    reason=decision.reason,
                    order_id=event.data.order_id,
                )
            ]
        )
        return
    status_change = {"from": payment.status, "to": decision.payment_status}
    jobs: list[JobPayload] = []
    correlation_id = order.correlation_id or meta.request_id
    if decision.outcome is Outcome.AMOUNT_MISMATCH:
        tx.extend(
            [
                audited(
                    SYSTEM,
                    "payment.amount_mismatch",
                    resource,
                    meta,
                    actor_type="system",
                    **seen,
                    order_id=order.order_id,
                    expected={"amount": payment.amount, "currency": payment.currency},
                    received={"amount": event.data.amount, "currency": event.data.currency},
                )
            ]
        )
        return
    assert decision.payment_status is not None  # every other outcome moves the payment
    repository.set_payment_status(tx, payment, decision.payment_status, at=at)
    if decision.outcome is Outcome.PAY:
        after = change_status(
            tx,
            order,
            "paid",
            by=SYSTEM,
            at=at,
            payment_status=decision.payment_status,
            conflict=repository.order_changed(),
        )
        owners = merchant_owners(order.merchant_id)
        jobs = status_jobs(order, after, owners=owners)
        tx.extend(
            [
                audited(
                    SYSTEM,
                    "payment.succeeded",
                    resource,
                    meta,
                    actor_type="system",
                    **seen,
                    status=status_change,
                ),
                audited(
                    SYSTEM,
                    "order.paid",
                    f"order:{order.order_id}",
                    meta,
                    actor_type="system",
                    status={"from": order.status, "to": after.status},
                    payment_id=payment.payment_id,
                    total=order.total,
                ),
            ]
        )
    else:
        repository.mirror_payment_status(tx, order, decision.payment_status, at=at)
        action = {
            Outcome.REFUND_LATE_PAYMENT: "payment.refund_requested",
            Outcome.FAIL: "payment.failed",
            Outcome.REFUNDED: "payment.refunded",
        }[decision.outcome]
        tx.extend(
            [
                audited(
                    SYSTEM,
                    action,
                    resource,
                    meta,
                    actor_type="system",
                    **seen,
                    status=status_change,
                    order_id=order.order_id,
                    order_status=order.status,
                    reason=decision.reason,
                )
            ]
        )
        if decision.outcome is Outcome.REFUND_LATE_PAYMENT:
            jobs = [
                RefundPayment(
                    provider=payment.provider,
                    payment_id=payment.payment_id,
                    order_id=payment.order_id,
                    amount=payment.amount,
                    currency=payment.currency,
                )
            ]
        elif decision.outcome is Outcome.REFUNDED:
            jobs = [refund_email(order, payment.amount)]
    enqueue_all(tx, jobs, correlation_id=correlation_id)


def _report(
    decision: Decision, event: ProviderEvent, payment: Payment | None, log: dict[str, Any]
) -> None:
    """Logs and metrics of an event applied (after its commit)."""
    fields = {**log, "payment_id": event.data.payment_id, "reason": decision.reason}
    match decision.outcome:
        case Outcome.PAY:
            _count("PaymentsSucceeded")
            _count("OrdersPaid")
            logger.info("order paid", extra=fields)
        case Outcome.AMOUNT_MISMATCH:
            _count("PaymentAmountMismatches")
            expected = (payment.amount, payment.currency) if payment else None
            received = (event.data.amount, event.data.currency)
            logger.warning(
                "payment amount mismatch: nothing paid",
                extra={**fields, "expected": expected, "received": received},
            )
        case Outcome.REFUND_LATE_PAYMENT:
            _count("LatePaymentsRefunded")
            logger.warning("payment for an order that ended unpaid: refunding", extra=fields)
        case Outcome.FAIL:
            _count("PaymentsFailed")
            logger.info("payment failed", extra=fields)
        case Outcome.REFUNDED:
            _count("PaymentsRefunded")
            logger.info("payment refunded", extra=fields)
        case Outcome.NO_EFFECT:
            logger.info("payment event changes nothing", extra=fields)
        case Outcome.IGNORED:
            _count("PaymentEventsIgnored")
            logger.warning("payment event ignored", extra=fields)


def _event_facts(event: ProviderEvent) -> domain.EventFacts:
    return domain.EventFacts(
        type=event.type,
        payment_id=event.data.payment_id,
        order_id=event.data.order_id,
        amount=event.data.amount,
        currency=event.data.currency,
    )


def _payment_facts(payment: Payment | None) -> domain.PaymentFacts | None:
    if payment is None:
        return None
    return domain.PaymentFacts(
        status=payment.status,
        order_id=payment.order_id,
        amount=payment.amount,
        currency=payment.currency,
    )


def _order_facts(order: Order | None) -> domain.OrderFacts | None:
    if order is None:
        return None
    return domain.OrderFacts(status=order.status, payment_id=order.payment_id)


# ---------------------------------------------------------------- refunds (own consumer)


def refund_with_provider(job: RefundPayment, job_id: str) -> None:
    """Ask the payment's provider to refund it (the confirmation comes as a notification).

    A method the provider cannot refund makes the payment ``refund_manual`` (from
    ``refund_pending`` only: a job run twice changes it once), audited and counted for an
    operator. Any other failure raises, so that SQS tries the job again."""
    from warung.ordering.midtrans import RefundNotSupported
    from warung.ordering.provider_transactions import configured_provider

    provider = configured_provider()
    if provider.name != job.provider:
        raise RuntimeError(f"a {job.provider} refund reached the {provider.name} consumer")
    log = {"payment_id": job.payment_id, "provider": job.provider, "job_id": job_id}
    try:
        provider.refund(
            payment_id=job.payment_id,
            order_id=job.order_id,
            amount=job.amount,
            currency=job.currency,
        )
    except RefundNotSupported as error:
        _refund_by_hand(job, str(error), log)
        return
    _count("RefundsRequested")
    logger.info("refund requested from the provider", extra=log)


def _refund_by_hand(job: RefundPayment, reason: str, log: dict[str, Any]) -> None:
    payment = repository.get_payment(job.payment_id)
    order = repository.get_order(job.order_id)
    if payment is None or order is None or payment.status != domain.REFUND_PENDING:
        logger.info("refund already settled; nothing to do", extra=log)
        return
    at = rfc3339(utc_now())
    meta = RequestMeta(f"refund-{job.payment_id}", "", "payments-refunds")
    tx = Transaction()
    repository.set_payment_status(tx, payment, domain.REFUND_MANUAL, at=at)
    repository.mirror_payment_status(tx, order, domain.REFUND_MANUAL, at=at)
    tx.extend(
        [
            audited(
                SYSTEM,
                "payment.refund_manual",
                f"payment:{payment.payment_id}",
                meta,
                actor_type="system",
                order_id=order.order_id,
                amount=payment.amount,
                reason=reason,
                status={"from": payment.status, "to": domain.REFUND_MANUAL},
            )
        ]
    )
    try:
        tx.commit()
    except ChangedMeanwhile:
        logger.info("payment moved meanwhile; the job runs again", extra=log)
        raise
    _count("RefundsManual")
    logger.warning("the provider cannot refund this method: refund by hand", extra=log)


# ---------------------------------------------------------------- daily reconciliation


def reconcile_day(day: str, now: datetime) -> dict[str, Any]:
    """Compare the real provider's payments of ``day`` (Jakarta date) with its records, one
    status fetch each (Midtrans has no listing API); write the admin-readable report
    (``RECON#<day>``) and count the mismatches (``ReconciliationMismatches``, alarmed)."""
    from warung.ordering.payments import ProviderUnavailable
    from warung.ordering.provider_transactions import configured_provider

    provider = configured_provider()
    mismatches: list[dict[str, Any]] = []
    checked = unchecked = 0
    # The simulator keeps no records of its own: there is nothing to compare with.
    of_day = [] if provider.name == SIMULATOR else repository.payments_of_day(day)
    for payment in of_day:
        if payment.provider != provider.name:
            continue
        try:
            record = provider.fetch_status(payment.order_id)
        except (ProviderUnavailable, RuntimeError) as error:
            unchecked += 1
            logger.warning(
                "reconciliation: provider did not answer",
                extra={"payment_id": payment.payment_id, "reason": str(error)},
            )
            continue
        checked += 1
        kind = domain.mismatch(payment.status, payment.amount, record.kind, record.amount)
        if kind is not None:
            mismatches.append(
                {
                    "kind": kind,
                    "payment_id": payment.payment_id,
                    "order_id": payment.order_id,
                    "here": {"status": payment.status, "amount": payment.amount},
                    "there": {"status": record.raw_status or record.kind, "amount": record.amount},
                }
            )
    report = {
        "day": day,
        "provider": provider.name,
        "checked": checked,
        "unchecked": unchecked,
        "mismatches": mismatches,
        "created_at": rfc3339(now),
    }
    repository.put_reconciliation_report(day, report)
    metrics.add_metric(
        name="ReconciliationMismatches", unit=MetricUnit.Count, value=len(mismatches)
    )
    metrics.add_metric(name="ReconciliationUnchecked", unit=MetricUnit.Count, value=unchecked)
    logger.info(
        "reconciliation done",
        extra={"day": day, "checked": checked, "unchecked": unchecked, "found": len(mismatches)},
    )
    return report
