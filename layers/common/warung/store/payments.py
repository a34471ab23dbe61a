"""Payments and the provider events already acted on."""

from __future__ import annotations


def payment_key(payment_id: str) -> dict[str, str]:
    """A payment."""
    return {"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"}


def event_key(provider: str, event_id: str) -> dict[str, str]:
    """A provider's event, recorded once in the transaction of its effect."""
    return {"pk": f"EVENT#{provider}#{event_id}", "sk": "EVENT"}
