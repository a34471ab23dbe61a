"""Response bodies of the admin's money routes: payments that need a person, and the daily
reconciliation's report (the API contract: docs/openapi.json)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Literal

from pydantic import Field

from warung.models import ApiModel


class AdminPayment(ApiModel):
    """A payment as an admin sees it: whose, how much, through whom, since when."""

    id: str
    order_id: str
    customer_id: str
    merchant_id: str
    amount: int = Field(ge=0, description="Whole rupiah (IDR): the order's total.")
    currency: str = Field(examples=["IDR"])
    provider: str = Field(examples=["midtrans"])
    status: Literal["refund_manual"] = Field(
        description="`refund_manual`: the provider could not refund it (a bank transfer "
        "virtual account); a person refunds the customer by hand."
    )
    since: str = Field(description="When it reached this status (RFC 3339).")
    created_at: str


class AdminPaymentPage(ApiModel):
    """Payments in one status, newest first."""

    items: list[AdminPayment]
    next_cursor: str | None


class SideOfAMismatch(ApiModel):
    """What one side (Warung, or the provider) says of a payment."""

    status: str
    amount: int | None = Field(description="Whole rupiah; null where the provider gave none.")


class ReconciliationMismatch(ApiModel):
    """One payment on which Warung and the provider disagree."""

    kind: Literal["paid_here_not_there", "paid_there_not_here", "different_amounts"]
    payment_id: str
    order_id: str
    here: SideOfAMismatch
    there: SideOfAMismatch


class ReconciliationReport(ApiModel):
    """The daily reconciliation's report of one Jakarta day's payments."""

    day: str = Field(examples=["2026-12-04"], description="The Jakarta date reconciled.")
    provider: str = Field(examples=["midtrans"])
    checked: int = Field(ge=0, description="Payments compared with the provider's record.")
    unchecked: int = Field(
        ge=0, description="Payments whose record the provider did not give (try a rerun)."
    )
    mismatches: list[ReconciliationMismatch]
    created_at: str = Field(description="When the run that wrote it started (RFC 3339).")
