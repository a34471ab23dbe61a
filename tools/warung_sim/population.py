"""The simulated day's population, written straight into the emulation.

Not through sign-up or the merchant API: 50,000 Argon2 hashes and the per-IP limits would
be the whole run. The items are the application's own: each comes from the layer's store
module of its entity (`warung.store.accounts.account_item`, `merchants.merchant_item`,
`products.product_item`, `promos.promo_item`) and the catalog's own rules for the index
items (`catalog.rules.search.index_prefixes` for the search items, `catalog.rules.geo.
covering_cells` for the geo entries), loaded from the catalog function's own modules, and
they are written with BatchWriteItem, 25 items a call.

Who lives where: 5 cities, Jakarta heavy (the shares below follow the cities' weight in
Indonesian food delivery: Greater Jakarta about half the orders); merchants around each
centre, customers around the same centres in the same shares. Menus of 10 to 60 products,
named from a small vocabulary so that names share words the way Indonesian menus do ("Nasi
Goreng", "Ayam Bakar", "Es Teh"): about one name in five starts with "Nasi".
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# (city, centre latitude, centre longitude, share of merchants and of customers)
CITIES: tuple[tuple[str, float, float, float], ...] = (
    ("Jakarta", -6.2000, 106.8166, 0.50),
    ("Surabaya", -7.2575, 112.7521, 0.15),
    ("Bandung", -6.9175, 107.6191, 0.15),
    ("Medan", 3.5952, 98.6722, 0.10),
    ("Makassar", -5.1477, 119.4327, 0.10),
)
CITY_SPREAD_DEG = 0.08  # merchants and customers within about 9 km of the centre

FOOD_STARTS = ("Nasi", "Nasi", "Mie", "Ayam", "Sate", "Soto", "Bakso", "Nasi", "Martabak", "Gado")
FOOD_ENDS = ("Goreng", "Bakar", "Spesial", "Komplit", "Kuah", "Pedas", "Kampung", "Madura")
DRINKS = ("Es Teh Manis", "Es Jeruk", "Kopi Susu", "Es Cendol", "Teh Tarik", "Jus Alpukat")
SNACKS = ("Pisang Goreng", "Tahu Isi", "Cireng", "Lumpia", "Risoles", "Klepon")
CATEGORY_WEIGHTS = (("food", 0.6), ("drinks", 0.25), ("snacks", 0.15))
PASSWORD = "simulated-customer-password"  # noqa: S105 - the simulation's own accounts
BATCH = 25  # items per BatchWriteItem


@dataclass(frozen=True)
class Population:
    """How many of each, and the seed that places them."""

    merchants: int = 500
    customers: int = 50_000
    menu_min: int = 10
    menu_max: int = 60
    seed: int = 18


@dataclass(frozen=True)
class SeededProduct:
    product_id: str
    name: str
    price: int


@dataclass(frozen=True)
class SeededMerchant:
    merchant_id: str
    owner_id: str
    city: str
    lat: float
    lon: float
    products: tuple[SeededProduct, ...]


@dataclass(frozen=True)
class SeededCustomer:
    user_id: str
    email: str
    city: str
    lat: float
    lon: float


@dataclass
class World:
    """What was seeded: the traffic's actors and where they are."""

    merchants: list[SeededMerchant] = field(default_factory=list)
    customers: list[SeededCustomer] = field(default_factory=list)
    items_written: int = 0
    search_items: int = 0
    promo_shards: dict[str, int] = field(default_factory=dict)  # sharded codes' counters

    def merchants_in(self, city: str) -> list[SeededMerchant]:
        return [m for m in self.merchants if m.city == city]


def _city(rng: random.Random) -> tuple[str, float, float]:
    name, lat, lon, _ = rng.choices(CITIES, weights=[c[3] for c in CITIES])[0]
    return (
        name,
        lat + rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG),
        lon + rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG),
    )


def product_name(rng: random.Random, category: str) -> str:
    """A menu name from the vocabulary of its category."""
    if category == "drinks":
        return rng.choice(DRINKS)
    if category == "snacks":
        return rng.choice(SNACKS)
    return f"{rng.choice(FOOD_STARTS)} {rng.choice(FOOD_ENDS)}"


def _batches(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


class Seeder:
    """Writes the population with the catalog function's modules (call inside its
    activation: `LocalFunction.activated`), so that its settings name the tables."""

    def __init__(self, password_hash: str) -> None:
        import botocore.session
        from botocore.config import Config

        from warung.settings import get_settings

        settings = get_settings()
        # Not the functions' client: the items are the store's own, checking each request's
        # shape again would only slow the seeding down.
        self.client = botocore.session.get_session().create_client(
            "dynamodb",
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            config=Config(parameter_validation=False),
        )
        self.table = settings.table_name
        self.password_hash = password_hash
        self.pending: list[dict[str, Any]] = []
        self.written = 0

    def put(self, item: dict[str, Any]) -> None:
        """Queue one item (plain values); written 25 at a time."""
        self.pending.append(item)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        from warung.dynamo import to_item

        for batch in _batches(self.pending):
            request: dict[str, Any] = {
                self.table: [{"PutRequest": {"Item": to_item(item)}} for item in batch]
            }
            while request:
                answer = self.client.batch_write_item(RequestItems=request)
                request = answer.get("UnprocessedItems") or {}
            self.written += len(batch)
        self.pending = []

    def seed(self, population: Population, now: datetime) -> World:
        from catalog.repository.products import SEARCH_FIELDS
        from catalog.rules import geo, search
        from warung.ids import new_id, rfc3339
        from warung.store import accounts, merchants, products
        from warung.store.accounts import Account
        from warung.store.merchants import Member, Merchant
        from warung.store.products import Product

        rng = random.Random(population.seed)  # noqa: S311 - simulated data
        stamp = rfc3339(now)
        world = World()
        for n in range(population.merchants):
            city, lat, lon = _city(rng)
            owner_id = new_id()
            merchant_id = new_id()
            email = f"owner{n}@sim.warung.test"
            owner = Account(
                user_id=owner_id,
                email=email,
                name=f"Pemilik {n}",
                password_hash=self.password_hash,
                created_at=stamp,
                email_verified=True,
                memberships={merchant_id: "owner"},
            )
            self.put(accounts.account_item(owner))
            self.put({**accounts.email_key(email), "user_id": owner_id})
            merchant = Merchant(
                merchant_id=merchant_id,
                name=f"Warung {city} {n}",
                description="A simulated merchant.",
                phone=f"+62812{n:07d}",
                address={"line1": f"Jl. Simulasi {n}", "city": city, "postal_code": "10110"},
                lat=Decimal(f"{lat:.5f}"),
                lon=Decimal(f"{lon:.5f}"),
                created_at=stamp,
                updated_at=stamp,
                status="active",
            )
            self.put(merchants.merchant_item(merchant))
            member = Member(merchant_id, owner_id, "owner", email, owner.name, stamp)
            self.put(merchants.member_item(member))
            cells = geo.covering_cells(lat, lon, float(merchant.delivery.max_distance_km))
            for cell in sorted(cells):
                self.put(
                    {
                        **merchants.geo_key(cell, merchant_id),
                        "merchant_id": merchant_id,
                        "lat": merchant.lat,
                        "lon": merchant.lon,
                        "max_distance_km": merchant.delivery.max_distance_km,
                    }
                )
            menu = []
            for _ in range(rng.randint(population.menu_min, population.menu_max)):
                category = rng.choices(
                    [c for c, _ in CATEGORY_WEIGHTS], weights=[w for _, w in CATEGORY_WEIGHTS]
                )[0]
                product = Product(
                    product_id=new_id(),
                    merchant_id=merchant_id,
                    name=product_name(rng, category),
                    price=rng.randrange(5_000, 60_000, 500),
                    category=category,
                    created_at=stamp,
                    updated_at=stamp,
                    # Cooked to order mostly; what is counted has plenty for the day.
                    stock=None if rng.random() < 0.8 else 100_000,
                )
                # Counted units on their own item, as a product made today stores them
                # (decisions/0030): seeded on the product item, each one's first sale would
                # move them and rewrite its listing entries, which a small day scales up
                # into category partitions written at every order.
                product = replace(product, stock_apart=product.stock is not None)
                self.put(products.product_item(product))
                if product.stock is not None:
                    units = products.stock_item(
                        product.product_id, product.stock, version=0, updated_at=stamp
                    )
                    self.put(units)
                entry = {name: getattr(product, name) for name in SEARCH_FIELDS}
                for prefix in sorted(search.index_prefixes(product.name)):
                    self.put({**products.search_key(prefix, product.product_id), **entry})
                    world.search_items += 1
                menu.append(SeededProduct(product.product_id, product.name, product.price))
            world.merchants.append(
                SeededMerchant(merchant_id, owner_id, city, lat, lon, tuple(menu))
            )
        for n in range(population.customers):
            city, lat, lon = _city(rng)
            user_id = new_id()
            email = f"customer{n}@sim.warung.test"
            account = Account(
                user_id=user_id,
                email=email,
                name=f"Pelanggan {n}",
                password_hash=self.password_hash,
                created_at=stamp,
                email_verified=True,
            )
            self.put(accounts.account_item(account))
            self.put({**accounts.email_key(email), "user_id": user_id})
            world.customers.append(SeededCustomer(user_id, email, city, lat, lon))
        self.flush()
        world.items_written = self.written
        return world


FLASH_USAGE_LIMIT = 10_000_000


def flash_promo_items(
    code: str, starts_at: datetime, ends_at: datetime, shards: int | None
) -> list[dict[str, Any]]:
    """The flash sale's promo code (10% off, at most Rp 15,000, once per customer) as an
    admin makes one today: the code's item and its ``shards`` usage counters (decision
    0029; ``None``: one counter on the code's item, as codes stored before that)."""
    from warung.ids import rfc3339
    from warung.store.promos import Promo, promo_item, promo_shard_item

    stamp = rfc3339(datetime.now(UTC))
    promo = Promo(
        code=code,
        kind="percent",
        value=10,
        max_discount=15_000,
        starts_at=starts_at,
        ends_at=ends_at,
        usage_limit=FLASH_USAGE_LIMIT,
        per_user_limit=1,
        created_at=stamp,
        updated_at=stamp,
        shards=shards,
    )
    return [promo_item(promo)] + [promo_shard_item(promo, n) for n in range(shards or 0)]
