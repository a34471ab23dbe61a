"""Request and response bodies of the product and category routes (the API contract:
docs/openapi.json)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Annotated, Literal

from pydantic import Field

from warung.models import ApiModel, OneLineText, RequestModel

Category = Literal["food", "drinks", "snacks", "groceries", "other"]
Price = Field(
    strict=True, ge=100, le=100_000_000, description="Whole rupiah (IDR), 100..100,000,000."
)
Stock = Field(
    default=None,
    strict=True,
    ge=0,
    le=1_000_000,
    description="Units left; `null`: not tracked (never sold out). Checkout decrements it.",
)
ImageUrl = Field(
    default=None,
    max_length=2048,
    pattern=r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#]\S*)?$",
    description="An https URL (no user info).",
    examples=["https://images.example.com/nasi-goreng.jpg"],
)
Tag = Annotated[str, Field(min_length=1, max_length=30)]


class ProductCreate(RequestModel):
    name: OneLineText = Field(min_length=1, max_length=120, examples=["Nasi Goreng Spesial"])
    description: str = Field(default="", max_length=2000)
    price: int = Price
    category: Category
    tags: list[Tag] = Field(default_factory=list, max_length=20, examples=[["pedas", "nasi"]])
    stock: int | None = Stock
    available: bool = Field(default=True, strict=True)
    image_url: str | None = ImageUrl


class ProductPatch(RequestModel):
    """Send only what changes; `stock: null` stops tracking stock."""

    name: OneLineText | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    price: int | None = Field(default=None, strict=True, ge=100, le=100_000_000)
    category: Category | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    stock: int | None = Stock
    available: bool | None = Field(default=None, strict=True)
    image_url: str | None = ImageUrl


class ProductOut(ApiModel):
    id: str
    merchant_id: str
    name: str
    description: str
    price: int = Field(description="Whole rupiah (IDR).")
    currency: Literal["IDR"] = "IDR"
    category: Category
    tags: list[str]
    stock: int | None = Field(description="Units left; `null`: not tracked.")
    available: bool = Field(description="The merchant's switch; `stock: 0` is sold out.")
    image_url: str | None
    version: int = Field(description="Bumped by every change; the `ETag` carries it.")
    created_at: str
    updated_at: str


class ProductPage(ApiModel):
    items: list[ProductOut]
    next_cursor: str | None


class CategoryOut(ApiModel):
    id: Category
    name: str


class CategoryList(ApiModel):
    items: list[CategoryOut]
