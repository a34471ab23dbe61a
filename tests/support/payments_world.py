"""What the payments integration tests share: orders and payments written straight with the
layer's records (as checkout writes them), events, the outbox, the audit log, the handler."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cache
from types import ModuleType
from typing import Any

import pytest

import payments.repository
import payments.rules
import payments.service
from support.cold_start import cold_start
from support.events import FakeContext, proxy_event
from support.whole_models import whole_dynamodb_client
from warung.context import RequestMeta
from warung.dynamo import Transaction, dynamodb_client, from_item, get_item, to_item
from warung.ids import new_id, rfc3339, utc_now
from warung.ordering.lifecycle import history_entry
from warung.ordering.numbers import new_order_number
from warung.ordering.payments import EventData, EventType, ProviderEvent
from warung.ordering.status import change_status
from warung.secrets import get_secret
from warung.settings import get_settings
from warung.store.orders import (
    Order,
    OrderLine,
    order_item,
    order_number_item,
    pending_orders_key,
)
from warung.store.payments import Payment, payment_item
from warung.webhooks import signature_header

TOTAL = 64_500


@cache
def payments_app() -> ModuleType:
    """The function's ``app`` module, loaded once the environment is set (a cold start)."""
    loaded: ModuleType = cold_start("payments.app")
    return loaded


def meta(step: str = "hook") -> RequestMeta:
    return RequestMeta(f"req-{step}-{uuid.uuid4().hex[:8]}", "203.0.113.50", "payments-it/1.0")


@dataclass
class Shop:
    """An order and its payment as checkout leaves them, with the merchant's people."""

    order: Order
    payment: Payment
    owner_email: str
    staff_email: str


@dataclass
class PaymentsWorld:
    """The payments function's world in the emulation, and ways to act in it."""

    monkeypatch: pytest.MonkeyPatch
    tokens: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------ data

    def shop(
        self,
        *,
        order_status: str = "pending_payment",
        payment_status: str = "pending",
        total: int = TOTAL,
        provider: str = "simulator",
    ) -> Shop:
        """A customer's order awaiting payment (or as given), written as checkout writes it."""
        now = utc_now()
        merchant_id, customer_id = new_id(), new_id()
        order_id, payment_id = new_id("ord_"), new_id("pay_")
        tag = uuid.uuid4().hex[:10]
        order = Order(
            order_id=order_id,
            number=new_order_number(),
            customer_id=customer_id,
            merchant_id=merchant_id,
            status=order_status,
            items=(OrderLine("prd_1", "Nasi goreng", 25_000, 2, stock_tracked=False),),
            subtotal=50_000,
            discount=0,
            delivery_fee=9_000,
            tax=total - 59_000,
            total=total,
            delivery_address={
                "line1": "Jl. Sabang 10",
                "city": "Jakarta",
                "postal_code": "10160",
                "lat": Decimal("-6.18"),
                "lon": Decimal("106.82"),
                "notes": "Pagar hijau",
            },
            distance_km=Decimal("1.2"),
            promo_code=None,
            payment_id=payment_id,
            payment_status=payment_status,
            status_history=(history_entry("pending_payment", now, customer_id),),
            created_at=rfc3339(now),
            updated_at=rfc3339(now),
            expires_at=rfc3339(now + timedelta(minutes=15)),
            customer_email=f"budi-{tag}@example.test",
            customer_name="Budi",
            merchant_name="Warung Bu Sri",
            correlation_id=f"req-checkout-{tag}",
        )
        payment = Payment(
            payment_id=payment_id,
            order_id=order_id,
            customer_id=customer_id,
            merchant_id=merchant_id,
            amount=total,
            provider=provider,
            status=payment_status,
            created_at=rfc3339(now),
            updated_at=rfc3339(now),
        )
        table = get_settings().table_name
        owner_email, staff_email = f"owner-{tag}@example.test", f"staff-{tag}@example.test"
        tx = Transaction().put(table, order_item(order)).put(table, payment_item(payment))
        tx.put(table, order_number_item(order))
        tx.put(table, {**pending_orders_key(customer_id), "count": 1})
        for role, email, name in (("owner", owner_email, "Sri"), ("staff", staff_email, "Tono")):
            tx.put(
                table,
                {
                    "pk": f"MERCHANT#{merchant_id}",
                    "sk": f"MEMBER#{new_id()}",
                    "merchant_id": merchant_id,
                    "user_id": new_id(),
                    "role": role,
                    "email": email,
                    "name": name,
                    "added_at": rfc3339(now),
                },
            )
        tx.commit()
        return Shop(order, payment, owner_email, staff_email)

    def expire(self, shop: Shop) -> None:
        """What the expiry scheduler does to an order left unpaid, and to its payment."""
        at = rfc3339(utc_now())
        tx = Transaction()
        change_status(tx, shop.order, "expired", by="system", at=at, payment_status="expired")
        tx.update(
            get_settings().table_name,
            {"pk": f"PAYMENT#{shop.payment.payment_id}", "sk": "PAYMENT"},
            "SET #status = :expired, updated_at = :at",
            condition="#status IN (:pending, :failed)",
            names={"#status": "status"},
            values={":expired": "expired", ":at": at, ":pending": "pending", ":failed": "failed"},
        )
        tx.commit()

    def stored(self, pk: str, sk: str) -> dict[str, Any] | None:
        return get_item({"pk": pk, "sk": sk}, table=get_settings().table_name)

    def order(self, shop: Shop) -> dict[str, Any]:
        found = self.stored(f"ORDER#{shop.order.order_id}", "ORDER")
        assert found is not None
        return found

    def payment(self, shop: Shop) -> dict[str, Any]:
        found = self.stored(f"PAYMENT#{shop.payment.payment_id}", "PAYMENT")
        assert found is not None
        return found

    def pending_count(self, shop: Shop) -> int:
        found = self.stored(f"USER#{shop.order.customer_id}", "PENDING_ORDERS")
        return int(found["count"]) if found else 0

    # ------------------------------------------------------------ events

    def event(
        self,
        shop: Shop,
        kind: EventType = "payment.succeeded",
        *,
        event_id: str | None = None,
        amount: int | None = None,
        currency: str = "IDR",
        order_id: str | None = None,
        payment_id: str | None = None,
    ) -> ProviderEvent:
        data = EventData(
            payment_id=payment_id or shop.payment.payment_id,
            order_id=order_id or shop.order.order_id,
            amount=shop.payment.amount if amount is None else amount,
            currency=currency,
        )
        return ProviderEvent(id=event_id or new_id("evt_"), type=kind, data=data)

    def apply(self, event: ProviderEvent) -> Any:
        """The event, verified already, through the webhook's use case."""
        return payments.service.apply_event("simulator", event, meta())

    def secret(self) -> str:
        return get_secret(get_settings().payment_webhook_secret_arn)

    def signed(self, event: ProviderEvent, *, at: int | None = None) -> tuple[bytes, str]:
        body = json.dumps(event.model_dump(mode="json")).encode()
        stamp = int(utc_now().timestamp()) if at is None else at
        return body, signature_header(self.secret(), body, stamp)

    # ------------------------------------------------------------ outbox and audit

    def jobs(self, correlation_id: str) -> list[dict[str, Any]]:
        """The outbox entries of one request's chain (a test may scan; serving code never)."""
        client = whole_dynamodb_client()
        request: dict[str, Any] = {
            "TableName": get_settings().table_name,
            "FilterExpression": "entity = :outbox AND correlation_id = :c",
            "ExpressionAttributeValues": to_item({":outbox": "outbox", ":c": correlation_id}),
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while True:
            page = client.scan(**request)
            found += [from_item(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def job_types(self, correlation_id: str) -> list[str]:
        return sorted(job["job_type"] for job in self.jobs(correlation_id))

    def audit(self, resource: str) -> list[dict[str, Any]]:
        response = dynamodb_client().query(
            TableName=get_settings().audit_table_name,
            IndexName="by_resource",
            KeyConditionExpression="resource_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"RES#{resource}"}},
        )
        return [from_item(item) for item in response["Items"]]

    def audit_actions(self, resource: str) -> list[str]:
        return sorted(entry["action"] for entry in self.audit(resource))

    # ------------------------------------------------------------ the Lambda handler

    def token_for(self, user_id: str) -> str:
        """An access token of an enabled, verified account, as the auth function issues."""
        from warung.tokens import issue_access_token

        if user_id not in self.tokens:
            dynamodb_client().put_item(
                TableName=get_settings().table_name,
                Item=to_item({"pk": f"USER#{user_id}", "sk": "PROFILE", "email_verified": True}),
            )
            self.tokens[user_id] = issue_access_token(user_id, new_id())[0]
        return self.tokens[user_id]

    def invoke(
        self,
        method: str,
        path: str,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One API Gateway proxy event through ``app.handler``: (status, headers, body)."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        event = proxy_event(
            method, path, body=body, headers=sent, request_id=f"req-{uuid.uuid4().hex[:12]}"
        )
        response = payments_app().handler(event, FakeContext())
        response_headers = {
            name: values[-1] for name, values in response["multiValueHeaders"].items()
        }
        text = response.get("body") or ""
        return response["statusCode"], response_headers, json.loads(text) if text else None
