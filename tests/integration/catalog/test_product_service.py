"""The catalog's product use cases against the emulation's tables (created from the real
template, under stages of their own so that every partition holds only what these tests put
there and a listing can be checked exactly): what each change writes, cursor walks over
every kind of listing, suspension, and lost updates under concurrency."""

from __future__ import annotations

import random
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from support.audit import address_hash
from support.audit import audit_entries as product_audit
from support.stacks import new_account, provision_stage, run_as
from support.whole_models import whole_dynamodb_client

import catalog.repository.merchants
import catalog.repository.products
import catalog.rules.merchants
import catalog.rules.products
import catalog.rules.search
import catalog.service.merchants
import catalog.service.products
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import Transaction, dynamodb_client, from_item, to_item
from warung.errors import BadRequest, Forbidden, NotFound, PreconditionFailed
from warung.ids import new_id, rfc3339, utc_now
from warung.settings import get_settings
from warung.store.products import Product

ROOT = Path(__file__).resolve().parents[3]

STAGE = "productit"  # single-product tests
WALK_STAGE = "productwalk"  # the 250-product catalog, untouched by any other test
MONAS = {"lat": -6.1754, "lon": 106.8272}
CATEGORIES = ("food", "drinks", "snacks", "groceries", "other")


# ---------------------------------------------------------------- the emulated stacks


def _provision(app_stack: Any, stage: str) -> Any:
    return provision_stage(app_stack.endpoint_url, stage)


def _point_at(stack: Any, app_stack: Any, patch: pytest.MonkeyPatch) -> None:
    run_as(stack, "CatalogFunction", app_stack.endpoint_url, patch)


def _clear_caches() -> None:
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def product_stack(app_stack: Any) -> Any:
    return _provision(app_stack, STAGE)


@pytest.fixture(scope="module")
def walk_stack(app_stack: Any) -> Any:
    return _provision(app_stack, WALK_STAGE)


@pytest.fixture
def world(app_stack: Any, product_stack: Any) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        _point_at(product_stack, app_stack, patch)
        yield
    _clear_caches()


# ---------------------------------------------------------------- helpers


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "product-it/1.0")


def account() -> Any:
    return new_account()


def caller(user_id: str, memberships: dict[str, str], admin: bool = False) -> Caller:
    roles = frozenset({"customer", "admin"} if admin else {"customer"})
    return Caller(user_id, "s", roles, True, memberships)


def open_merchant(owner_id: str, admin_id: str | None = None) -> str:
    """A merchant of ``owner_id``; active when ``admin_id`` approves it."""
    body = {
        "name": "Warung Bu Sri",
        "description": "Gudeg",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        "location": MONAS,
    }
    merchant_id: str = catalog.service.merchants.open_merchant(owner_id, body, meta()).merchant_id
    if admin_id:
        catalog.service.merchants.change_status(admin_id, merchant_id, "active", meta())
    return merchant_id


def add(actor_id: str, merchant_id: str, **fields: Any) -> Any:
    data = {"name": "Es Teh Manis", "price": 5000, "category": "drinks", **fields}
    return catalog.service.products.add_product(actor_id, merchant_id, data, meta())


def item(pk: str, sk: str) -> dict[str, Any] | None:
    response = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


def stored_item(pk: str, sk: str) -> dict[str, Any]:
    """The item at ``pk``/``sk``, which must be there."""
    found = item(pk, sk)
    assert found is not None, (pk, sk)
    return found


def search_items(product_id: str) -> dict[str, dict[str, Any]]:
    """Every SEARCH# item of a product, by prefix (a Scan: tests only)."""
    found: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "FilterExpression": "sk = :id AND begins_with(pk, :search)",
        "ExpressionAttributeValues": to_item({":id": product_id, ":search": "SEARCH#"}),
    }
    client = whole_dynamodb_client()
    while True:
        page = client.scan(**request)
        for raw in page.get("Items", []):
            stored = from_item(raw)
            found[stored["pk"].removeprefix("SEARCH#")] = stored
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def audit_entries(product_id: str) -> list[dict[str, Any]]:
    return product_audit(f"product:{product_id}")


def listing(**asked: Any) -> Any:
    given: dict[str, Any] = {
        "q": None,
        "merchant_id": None,
        "category": None,
        "min_price": None,
        "max_price": None,
        "available": None,
        "sort": None,
    }
    return catalog.rules.products.list_query(**(given | asked))


def walk(query: Any, *, limit: int = 20, who: Caller | None = None) -> list[str]:
    """Every page of a listing, following ``next_cursor``; the ids in the order shown."""
    shown: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        page, cursor = catalog.service.products.list_products(
            query, limit=limit, cursor=cursor, caller=who
        )
        assert len(page) <= limit
        assert page or cursor is None, "an empty page must be the last"
        shown += [p.product_id for p in page]
        if cursor is None:
            return shown
    raise AssertionError("the cursor never ran out")


# ---------------------------------------------------------------- what writes write


@pytest.mark.usefixtures("world")
def test_creating_writes_the_product_its_index_keys_its_search_items_and_an_audit_entry() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    product = add(owner.user_id, mid, name="Nasi Goréng Spesial", price=25000, category="food")
    pid = product.product_id

    stored = item(f"PRODUCT#{pid}", "PRODUCT")
    assert stored is not None
    assert (stored["name"], stored["price"], stored["version"], stored["archived"]) == (
        "Nasi Goréng Spesial",
        25000,
        1,
        False,
    )
    assert (stored["gsi1pk"], stored["gsi1sk"]) == (f"MPRODUCTS#{mid}", pid)
    assert (stored["gsi2pk"], stored["gsi2sk"]) == ("CAT#food", f"000000025000#{pid}")
    assert (stored["gsi3pk"], stored["gsi3sk"]) == ("CATNEW#food", pid)

    prefixes = catalog.rules.search.index_prefixes("Nasi Goréng Spesial")
    assert {"na", "nasi", "go", "goreng", "spesial"} <= prefixes
    written = search_items(pid)
    assert set(written) == prefixes
    for entry in written.values():
        assert {k: entry[k] for k in ("merchant_id", "price", "category", "available", "name")} == {
            "merchant_id": mid,
            "price": 25000,
            "category": "food",
            "available": True,
            "name": "Nasi Goréng Spesial",
        }

    (created,) = audit_entries(pid)
    assert (created["action"], created["actor_id"], created["ip_hash"]) == (
        "product.created",
        owner.user_id,
        address_hash("203.0.113.9"),
    )
    assert created["actor_type"] == "user"
    assert created["changes"]["merchant_id"] == mid
    assert created["changes"]["price"] == 25000


@pytest.mark.usefixtures("world")
def test_a_product_of_an_unknown_merchant_is_404_and_writes_nothing() -> None:
    owner = account()
    unknown = new_id()
    with pytest.raises(NotFound) as raised:
        add(owner.user_id, unknown, name="Zzhantu Roti")
    assert raised.value.detail == "No such merchant."
    assert catalog.service.products.list_products(
        listing(q="zzhantu"), limit=10, cursor=None, caller=None
    ) == ([], None)
    # A listing hides the products of a merchant it cannot find, so look at the items:
    # neither the product (on its merchant's menu index) nor its search items exist.
    menu = catalog.repository.products.merchant_menu(unknown, page_size=10, start=None)
    assert list(menu) == []
    search = catalog.repository.products.search_partition("zzhantu", page_size=10, start=None)
    assert list(search) == []


@pytest.mark.usefixtures("world")
def test_adding_a_product_is_one_transaction_that_checks_the_merchant() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", record, unique_id="product-it-calls")
    try:
        product = add(owner.user_id, mid, name="Roti Bakar")
    finally:
        events.unregister("before-call.dynamodb", unique_id="product-it-calls")
    assert calls == ["TransactWriteItems"]
    assert stored_item(f"PRODUCT#{product.product_id}", "PRODUCT")["merchant_id"] == mid


@pytest.mark.usefixtures("world")
def test_a_rename_replaces_the_stale_search_items_with_the_new_ones() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, name="Nasi Uduk").product_id
    who = caller(owner.user_id, {mid: "owner"})

    after = catalog.service.products.update_product(
        who, pid, {"name": "Nasi Kuning"}, f'"{pid}.1"', meta()
    )

    assert (after.name, after.version) == ("Nasi Kuning", 2)
    written = search_items(pid)
    assert set(written) == catalog.rules.search.index_prefixes("Nasi Kuning")
    assert not {"ud", "udu", "uduk"} & set(written)
    assert {e["name"] for e in written.values()} == {"Nasi Kuning"}
    assert [e["action"] for e in audit_entries(pid)] == ["product.created", "product.updated"]
    assert audit_entries(pid)[1]["changes"]["name"] == {"from": "Nasi Uduk", "to": "Nasi Kuning"}


@pytest.mark.usefixtures("world")
def test_a_rename_that_only_changes_case_rewrites_the_name_on_the_search_items() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, name="nasi uduk").product_id
    who = caller(owner.user_id, {mid: "owner"})

    catalog.service.products.update_product(who, pid, {"name": "Nasi Uduk"}, None, meta())

    written = search_items(pid)
    assert set(written) == catalog.rules.search.index_prefixes("Nasi Uduk")
    assert {e["name"] for e in written.values()} == {"Nasi Uduk"}


@pytest.mark.usefixtures("world")
def test_a_price_change_rewrites_the_price_on_every_search_item_and_the_price_index() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, name="Es Jeruk Peras", price=8000).product_id
    who = caller(owner.user_id, {mid: "manager"})

    catalog.service.products.update_product(who, pid, {"price": 9500}, None, meta())

    written = search_items(pid)
    assert set(written) == catalog.rules.search.index_prefixes("Es Jeruk Peras")
    assert {e["price"] for e in written.values()} == {9500}
    assert stored_item(f"PRODUCT#{pid}", "PRODUCT")["gsi2sk"] == f"000000009500#{pid}"


@pytest.mark.usefixtures("world")
def test_a_change_of_no_searched_field_leaves_the_search_items_alone() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, name="Kopi Tubruk").product_id
    before = search_items(pid)
    who = caller(owner.user_id, {mid: "owner"})

    after = catalog.service.products.update_product(
        who, pid, {"description": "Robusta Lampung", "tags": [" Kopi ", "kopi"]}, None, meta()
    )

    assert (after.description, after.tags, after.version) == ("Robusta Lampung", ("kopi",), 2)
    assert search_items(pid) == before


@pytest.mark.usefixtures("world")
def test_an_update_that_changes_nothing_keeps_the_version_and_writes_no_audit() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, name="Kopi Susu", price=12000).product_id
    who = caller(owner.user_id, {mid: "owner"})

    same = catalog.service.products.update_product(who, pid, {"price": 12000}, None, meta())

    assert same.version == 1
    assert [e["action"] for e in audit_entries(pid)] == ["product.created"]


@pytest.mark.usefixtures("world")
def test_staff_get_403_and_strangers_404_on_a_change() -> None:
    owner, stranger = account(), account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid).product_id
    with pytest.raises(Forbidden):
        catalog.service.products.update_product(
            caller(owner.user_id, {mid: "staff"}), pid, {"price": 6000}, None, meta()
        )
    with pytest.raises(NotFound):
        catalog.service.products.archive_product(caller(stranger.user_id, {}), pid, None, meta())
    assert stored_item(f"PRODUCT#{pid}", "PRODUCT")["version"] == 1


@pytest.mark.usefixtures("world")
def test_archiving_removes_every_index_key_and_search_item_and_then_it_is_gone() -> None:
    owner, admin = account(), account()
    mid = open_merchant(owner.user_id, admin.user_id)
    pid = add(owner.user_id, mid, name="Martabak Manis Keju Coklat", category="snacks").product_id
    who = caller(owner.user_id, {mid: "owner"})
    assert search_items(pid)

    catalog.service.products.archive_product(who, pid, f'"{pid}.1"', meta())

    stored = item(f"PRODUCT#{pid}", "PRODUCT")
    assert stored is not None  # orders keep their snapshot; the id is never reused
    assert (stored["archived"], stored["version"]) == (True, 2)
    assert not {k for k in stored if k.startswith("gsi")}
    assert search_items(pid) == {}
    assert [e["action"] for e in audit_entries(pid)] == ["product.created", "product.archived"]
    with pytest.raises(NotFound):
        catalog.service.products.update_product(who, pid, {"price": 7000}, None, meta())
    with pytest.raises(NotFound):
        catalog.service.products.archive_product(who, pid, None, meta())
    with pytest.raises(NotFound):
        catalog.service.products.product_for(pid, who)
    with pytest.raises(NotFound):
        catalog.service.products.product_for(pid, None)
    assert walk(listing(merchant_id=mid), who=who) == []


@pytest.mark.usefixtures("world")
def test_a_stale_if_match_is_412_and_changes_nothing() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, price=5000).product_id
    who = caller(owner.user_id, {mid: "owner"})
    catalog.service.products.update_product(who, pid, {"price": 5500}, f'"{pid}.1"', meta())

    with pytest.raises(PreconditionFailed):
        catalog.service.products.update_product(who, pid, {"price": 6000}, f'"{pid}.1"', meta())
    with pytest.raises(PreconditionFailed):
        catalog.service.products.archive_product(who, pid, f'W/"{pid}.2"', meta())

    stored = item(f"PRODUCT#{pid}", "PRODUCT")
    assert stored is not None
    assert (stored["price"], stored["version"], stored["archived"]) == (5500, 2, False)


@pytest.mark.usefixtures("world")
def test_each_stale_write_is_refused_with_an_error_of_its_own() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid, price=5000).product_id
    who = caller(owner.user_id, {mid: "owner"})
    stale = catalog.repository.products.get_product(pid, consistent=True)
    assert stale is not None
    catalog.service.products.update_product(who, pid, {"price": 5500}, None, meta())

    def refusal() -> PreconditionFailed:
        after = replace(stale, price=9000, version=stale.version + 1)
        with pytest.raises(PreconditionFailed) as raised:
            catalog.repository.products.replace_product(Transaction(), stale, after).commit()
        return raised.value

    first, second = refusal(), refusal()

    assert first is not second
    # a shared instance would carry every earlier raise's frames (and their locals) along
    assert len(traceback.extract_tb(second.__traceback__)) == len(
        traceback.extract_tb(first.__traceback__)
    )
    assert stored_item(f"PRODUCT#{pid}", "PRODUCT")["price"] == 5500


# ---------------------------------------------------------------- suspension


@pytest.mark.usefixtures("world")
def test_a_suspended_merchants_products_vanish_at_once_and_return_on_reactivation() -> None:
    owner, admin, stranger = account(), account(), account()
    mid = open_merchant(owner.user_id, admin.user_id)
    word = "zq" + uuid.uuid4().hex[:8]  # a search partition of this test's own
    mine = {
        add(
            owner.user_id, mid, name=f"Soto {word} {n}", category=c, price=1000 * (n + 1)
        ).product_id
        for n, c in enumerate(("food", "drinks", "food"))
    }
    member = caller(owner.user_id, {mid: "owner"})

    def everywhere(who: Caller | None) -> dict[str, set[str]]:
        asked = {
            "newest": listing(),
            "price_asc": listing(sort="price_asc"),
            "food": listing(category="food"),
            "menu": listing(merchant_id=mid),
            "menu_by_price": listing(merchant_id=mid, sort="price_desc"),
            "search": listing(q=word),
            "search_newest": listing(q=word, sort="newest"),
        }
        return {name: set(walk(q, limit=100, who=who)) & mine for name, q in asked.items()}

    food = {p for p in mine if stored_item(f"PRODUCT#{p}", "PRODUCT")["category"] == "food"}
    visible = {
        "newest": mine,
        "price_asc": mine,
        "food": food,
        "menu": mine,
        "menu_by_price": mine,
        "search": mine,
        "search_newest": mine,
    }
    hidden: dict[str, set[str]] = {name: set() for name in visible}
    assert everywhere(None) == visible

    catalog.service.merchants.change_status(admin.user_id, mid, "suspended", meta())

    assert everywhere(None) == hidden
    for pid in mine:
        with pytest.raises(NotFound):
            catalog.service.products.product_for(pid, None)
        with pytest.raises(NotFound):
            catalog.service.products.product_for(pid, caller(stranger.user_id, {}))
        assert catalog.service.products.product_for(pid, caller(admin.user_id, {}, True))[0]
        product, public = catalog.service.products.product_for(pid, member)
        assert (product.product_id, public) == (pid, False)
    # a member still sees the menu when asking for it, and only then
    seen_by_member = everywhere(member)
    assert seen_by_member["menu"] == mine
    assert seen_by_member["menu_by_price"] == mine
    assert seen_by_member["newest"] == set()
    assert set(walk(listing(merchant_id=mid), who=caller(admin.user_id, {}, admin=True))) == mine

    catalog.service.merchants.change_status(admin.user_id, mid, "active", meta())

    assert everywhere(None) == visible
    for pid in mine:
        assert catalog.service.products.product_for(pid, None)[1] is True


@pytest.mark.usefixtures("world")
def test_a_pending_merchants_products_are_seen_by_its_members_only() -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    pid = add(owner.user_id, mid).product_id
    with pytest.raises(NotFound):
        catalog.service.products.product_for(pid, None)
    assert walk(listing(merchant_id=mid)) == []
    assert walk(listing(merchant_id=mid), who=caller(owner.user_id, {mid: "staff"})) == [pid]


# ---------------------------------------------------------------- cursors


@pytest.mark.usefixtures("world")
def test_a_cursor_belongs_to_one_listing_and_cannot_be_forged() -> None:
    owner, admin = account(), account()
    mid = open_merchant(owner.user_id, admin.user_id)
    for n in range(3):
        add(owner.user_id, mid, name=f"Bakso Urat {n}", price=15000 + n, category="food")
    asked = listing(merchant_id=mid)
    first, cursor = catalog.service.products.list_products(asked, limit=2, cursor=None, caller=None)
    assert len(first) == 2
    assert cursor is not None

    for other in (
        listing(merchant_id=mid, sort="price_asc"),
        listing(merchant_id=mid, category="food"),
        listing(merchant_id=mid, min_price=1),
        listing(merchant_id=new_id()),
        listing(q="bakso"),
        listing(),
    ):
        with pytest.raises(BadRequest) as raised:
            catalog.service.products.list_products(other, limit=2, cursor=cursor, caller=None)
        assert raised.value.status == 400

    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    for forged in (flipped, cursor[:-1], "not-a-cursor", cursor + "AAAA"):
        with pytest.raises(BadRequest):
            catalog.service.products.list_products(asked, limit=2, cursor=forged, caller=None)

    rest, end = catalog.service.products.list_products(asked, limit=2, cursor=cursor, caller=None)
    assert len(rest) == 1
    assert end is None


# ---------------------------------------------------------------- lost updates


@pytest.mark.usefixtures("world")
def test_ten_concurrent_updates_with_the_same_if_match_let_exactly_one_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = account()
    mid = open_merchant(owner.user_id)
    # a one-word name: few search items per write keeps the emulation's transactions quick
    pid = add(owner.user_id, mid, name="Teh", price=5000).product_id
    who = caller(owner.user_id, {mid: "owner"})
    writers = 10
    # Every thread reads version 1 before any writes: the read-time If-Match check passes
    # for all of them, so the losers are refused by the write's version condition.
    all_read = threading.Barrier(writers, timeout=20)
    read = catalog.repository.products.get_product
    passed_read_check: list[str] = []
    check = catalog.rules.products.check_precondition

    def read_then_wait(product_id: str, *, consistent: bool = False) -> Any:
        found = read(product_id, consistent=consistent)
        all_read.wait()
        return found

    def counted_check(product: Any, if_match: str | None) -> None:
        check(product, if_match)
        passed_read_check.append(product.etag)

    monkeypatch.setattr(catalog.repository.products, "get_product", read_then_wait)
    monkeypatch.setattr(catalog.rules.products, "check_precondition", counted_check)

    def update(n: int) -> Any:
        try:
            return catalog.service.products.update_product(
                who, pid, {"price": 6000 + n}, f'"{pid}.1"', meta()
            )
        except PreconditionFailed as refused:
            return refused

    with ThreadPoolExecutor(writers) as pool:
        outcomes = list(pool.map(update, range(writers)))

    won = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, PreconditionFailed)]
    assert (len(won), len(refused)) == (1, writers - 1)
    assert passed_read_check == [f'"{pid}.1"'] * writers
    assert {r.status for r in refused} == {412}
    # each refusal is an error of its own request, not one shared object
    assert len({id(r) for r in refused}) == writers - 1
    stored = item(f"PRODUCT#{pid}", "PRODUCT")
    assert stored is not None
    assert (stored["version"], stored["price"]) == (2, won[0].price)
    assert {e["price"] for e in search_items(pid).values()} == {won[0].price}
    assert [e["action"] for e in audit_entries(pid)] == ["product.created", "product.updated"]


# ---------------------------------------------------------------- the 250-product walk


@dataclass(frozen=True)
class Shown:
    """What the walk catalog's listings must show: the products of active merchants."""

    merchants: list[str]
    listed: list[dict[str, Any]]  # id, merchant, name, price, category, available
    hidden: set[str]  # products of a pending merchant, and archived ones


# Short names: every prefix is an item, and the emulation reads the whole table for each
# index Query, so fewer items keep the walks quick.
NASI_NAMES = ("Nasi Uduk", "Nasi", "Nasional", "Nasi Nasional", "Nasi Uduk Nasi")
OTHER_NAMES = ("Es Teh", "Roti", "Kopi", "Tahu", "Gula")


def write_in_bulk(products: list[Any]) -> None:
    """The items the repository writes for each product (the product with its index keys
    and its SEARCH# items), sent with BatchWriteItem rather than one transaction each.

    The emulation (moto) deep-copies the whole table once per action of every
    TransactWriteItems, so 250 transactional creates into a table that grows to ~5,000
    items take minutes and pass the client's 5 s read timeout (whose retry is then not
    idempotent there, as moto ignores ClientRequestToken). The stored items are the same.
    """
    puts: list[dict[str, Any]] = []
    for product in products:
        tx = catalog.repository.products.add_product(Transaction(), product)
        puts += [{"PutRequest": {"Item": op["Put"]["Item"]}} for op in tx.items]
    table, client = get_settings().table_name, whole_dynamodb_client()
    for start in range(0, len(puts), 25):
        request: dict[str, Any] = {table: puts[start : start + 25]}
        while request:
            request = client.batch_write_item(RequestItems=request)["UnprocessedItems"]


@pytest.fixture(scope="module")
def catalog_250(app_stack: Any, walk_stack: Any) -> Iterator[Shown]:
    with pytest.MonkeyPatch.context() as patch:
        _point_at(walk_stack, app_stack, patch)
        admin = account()
        owners = [account() for _ in range(3)]
        active = [open_merchant(o.user_id, admin.user_id) for o in owners[:2]]
        pending = open_merchant(owners[2].user_id)
        # Through the use cases while the table is small: what must not be listed (a
        # pending merchant's products, archived ones) and the first few listed products.
        hidden = {
            add(owners[2].user_id, pending, name=f"Nasi Liwet {n}", category=c).product_id
            for n, c in enumerate(CATEGORIES)
        }
        editor = caller(owners[0].user_id, dict.fromkeys(active, "owner"))
        for category in ("food", "drinks"):
            gone = add(owners[0].user_id, active[0], name="Nasi Goreng", category=category)
            catalog.service.products.archive_product(editor, gone.product_id, None, meta())
            hidden.add(gone.product_id)

        chance = random.Random(250)
        listed: list[dict[str, Any]] = []
        bulk: list[Any] = []
        for n in range(250):
            merchant_index = n % 3 % 2  # two thirds to the first merchant, a third to the other
            category = CATEGORIES[n % 5]
            # Few distinct prices, so that ties are frequent and the id decides them.
            price = chance.choice((1000, 2500, 5000, 7500, 12000, 25000, 99000))
            base = NASI_NAMES[n % 5] if n % 2 else OTHER_NAMES[n % 5]
            name = base if n % 7 else f"{base} {n}"
            fields = {"name": name, "price": price, "category": category}
            available = n % 11 != 0
            if n < 10:
                made = add(
                    owners[merchant_index].user_id,
                    active[merchant_index],
                    available=available,
                    **fields,
                )
            else:
                now = rfc3339(utc_now())
                made = Product(
                    product_id=new_id(),
                    merchant_id=active[merchant_index],
                    name=name,
                    price=price,
                    category=category,
                    created_at=now,
                    updated_at=now,
                    available=available,
                )
                bulk.append(made)
            listed.append({"id": made.product_id, "merchant_id": made.merchant_id, **fields})
        write_in_bulk(bulk)
        _clear_caches()
        yield Shown(active, listed, hidden)
    _clear_caches()


@pytest.fixture
def walk_world(app_stack: Any, walk_stack: Any, catalog_250: Shown) -> Iterator[Shown]:
    with pytest.MonkeyPatch.context() as patch:
        _point_at(walk_stack, app_stack, patch)
        yield catalog_250
    _clear_caches()


def newest(p: dict[str, Any]) -> Any:
    return [-ord(ch) for ch in p["id"]]  # ids are fixed-length and time-ordered


def cheapest(p: dict[str, Any]) -> Any:
    return (p["price"], p["id"])


def dearest(p: dict[str, Any]) -> Any:
    return (-p["price"], newest(p))


def begins_nasi(p: dict[str, Any]) -> bool:
    return any(word.startswith("nasi") for word in p["name"].lower().split())


def most_relevant_to_nasi(p: dict[str, Any]) -> Any:
    name_words = list(dict.fromkeys(p["name"].lower().split()))
    begun = sum(1 for w in name_words if w.startswith("nasi"))
    exact = 1 if "nasi" in name_words else 0
    return (-begun, -exact, p["name"].lower(), p["name"], p["id"])


WALKS: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], bool], Any]] = {
    "everything newest": ({}, lambda p: True, newest),
    "everything by price ascending": ({"sort": "price_asc"}, lambda p: True, cheapest),
    "everything by price descending": ({"sort": "price_desc"}, lambda p: True, dearest),
    "one category in a price range": (
        {"category": "drinks", "min_price": 2500, "max_price": 12000, "sort": "price_asc"},
        lambda p: p["category"] == "drinks" and 2500 <= p["price"] <= 12000,
        cheapest,
    ),
    "one category in a price range, dearest first": (
        {"category": "snacks", "min_price": 5000, "sort": "price_desc"},
        lambda p: p["category"] == "snacks" and p["price"] >= 5000,
        dearest,
    ),
    "one category in a price range, newest": (
        {"category": "food", "max_price": 7500},
        lambda p: p["category"] == "food" and p["price"] <= 7500,
        newest,
    ),
    "q=nasi by relevance": ({"q": "nasi"}, begins_nasi, most_relevant_to_nasi),
    "q=nasi newest": ({"q": "NASI", "sort": "newest"}, begins_nasi, newest),
}


@pytest.mark.parametrize("name", list(WALKS))
def test_a_walk_of_250_products_shows_each_listed_product_once_in_order(
    walk_world: Shown, name: str
) -> None:
    asked, wanted, order = WALKS[name]
    expected = [p["id"] for p in sorted(filter(wanted, walk_world.listed), key=order)]
    assert len(expected) >= 15  # more than one page of 20 for most of them

    shown = walk(listing(**asked))

    assert len(shown) == len(set(shown)), "a product was shown twice"
    assert not set(shown) & walk_world.hidden
    assert shown == expected


@pytest.mark.parametrize(("merchant", "sort"), [(0, "newest"), (1, "price_asc")])
def test_a_walk_of_one_merchants_menu(walk_world: Shown, merchant: int, sort: str) -> None:
    merchant_id = walk_world.merchants[merchant]
    menu = [p for p in walk_world.listed if p["merchant_id"] == merchant_id]
    expected = [p["id"] for p in sorted(menu, key=newest if sort == "newest" else cheapest)]
    assert len(expected) > 60

    shown = walk(listing(merchant_id=merchant_id, sort=sort))

    assert len(shown) == len(set(shown)), "a product was shown twice"
    assert shown == expected


def test_the_walk_catalog_is_what_the_issue_asks_for(walk_world: Shown) -> None:
    listed = walk_world.listed
    assert len(listed) == 250
    assert {p["category"] for p in listed} == set(CATEGORIES)
    assert {p["merchant_id"] for p in listed} == set(walk_world.merchants)
    assert len({p["price"] for p in listed}) >= 5
    assert sum(begins_nasi(p) for p in listed) >= 100
