"""Every request field whose text reaches an e-mail refuses a second line (and control
characters) at the edge: names of accounts, merchants and products, delivery address and
notes, and the reason a merchant gives."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from auth.models import MePatch, RegisterRequest
from catalog.models.merchants import MerchantCreate, MerchantPatch
from catalog.models.products import ProductCreate, ProductPatch
from orders.models import DeliveryAddress, StatusChangeIn

ADDRESS = {
    "line1": "Jl. Kebon Sirih No. 5",
    "city": "Jakarta",
    "postal_code": "10340",
    "lat": -6.1862,
    "lon": 106.8263,
}
MERCHANT = {
    "name": "Warung Bu Sri",
    "description": "Home cooking.",
    "phone": "+6281234567890",
    "address": {"line1": "Jl. Sabang No. 10", "city": "Jakarta", "postal_code": "10160"},
    "location": {"lat": -6.1862, "lon": 106.8263},
}
EDGES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (RegisterRequest, {"email": "sri@example.com", "password": "kopi-tubruk"}, "name"),
    (MePatch, {}, "name"),
    (MerchantCreate, MERCHANT, "name"),
    (MerchantPatch, {}, "name"),
    (ProductCreate, {"name": "Nasi", "price": 25000, "category": "food"}, "name"),
    (ProductPatch, {}, "name"),
    (DeliveryAddress, ADDRESS, "line1"),
    (DeliveryAddress, ADDRESS, "city"),
    (DeliveryAddress, ADDRESS, "notes"),
    (StatusChangeIn, {"status": "rejected"}, "reason"),
]


@pytest.mark.parametrize(
    ("model", "valid", "field"),
    EDGES,
    ids=[f"{model.__name__}-{field}" for model, _, field in EDGES],
)
def test_a_second_line_is_refused_where_the_text_comes_in(
    model: type[BaseModel], valid: dict[str, Any], field: str
) -> None:
    assert getattr(model.model_validate({**valid, field: "Bu Sri"}), field) == "Bu Sri"

    with pytest.raises(ValidationError) as caught:
        model.model_validate({**valid, field: "Bob\nClick http://evil.example"})

    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
