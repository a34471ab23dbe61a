"""Orders, carts and a customer's count of unpaid orders."""

from __future__ import annotations

from warung.store.accounts import user_partition

PENDING_PARTITION = "PENDING"  # gsi3: unpaid orders by the end of their payment window


def order_key(order_id: str) -> dict[str, str]:
    """An order."""
    return {"pk": f"ORDER#{order_id}", "sk": "ORDER"}


def customer_orders_partition(customer_id: str) -> str:
    """gsi1: a customer's orders, newest first (ids are time-ordered)."""
    return f"CUSTOMER#{customer_id}"


def merchant_orders_partition(merchant_id: str) -> str:
    """gsi2: a merchant's orders, newest first."""
    return f"MORDERS#{merchant_id}"


def order_index(order_id: str, customer_id: str, merchant_id: str) -> dict[str, str]:
    """An order's places in its customer's and its merchant's lists."""
    return {
        "gsi1pk": customer_orders_partition(customer_id),
        "gsi1sk": order_id,
        "gsi2pk": merchant_orders_partition(merchant_id),
        "gsi2sk": order_id,
    }


def pending_index(order_id: str, expires_at: str) -> dict[str, str]:
    """An unpaid order's entry in the expiry worklist (removed once it leaves the state)."""
    return {"gsi3pk": PENDING_PARTITION, "gsi3sk": f"{expires_at}#{order_id}"}


def cart_key(user_id: str) -> dict[str, str]:
    """A customer's cart: product ids and quantities, never prices."""
    return {"pk": user_partition(user_id), "sk": "CART"}


def pending_orders_key(customer_id: str) -> dict[str, str]:
    """A customer's count of orders awaiting payment."""
    return {"pk": user_partition(customer_id), "sk": "PENDING_ORDERS"}
