"""Every key of the main table is spelled in one place (warung.store), and the key table of
docs/data-model.md says what those builders build."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

import pytest

from warung.store import (
    accounts,
    invitations,
    jobs,
    merchants,
    orders,
    payments,
    products,
    promos,
)

ROOT = Path(__file__).resolve().parents[2]
SERVING_CODE = sorted(
    [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "common" / "warung").rglob("*.py")]
)
PREFIX = re.compile(r"(?<![A-Za-z0-9_])([A-Z][A-Z_]+)#")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may name keys)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def key_prefixes(source: str) -> set[str]:
    """The ``XYZ#`` prefixes spelled in the code's strings (f-strings too), not in prose."""
    tree = ast.parse(source)
    prose = _docstrings(tree)
    spelled = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            spelled |= set(PREFIX.findall(node.value))
    return spelled


def test_each_key_prefix_is_spelled_in_exactly_one_module() -> None:
    homes: dict[str, set[str]] = defaultdict(set)
    for path in SERVING_CODE:
        for prefix in key_prefixes(path.read_text(encoding="utf-8")):
            homes[prefix].add(str(path.relative_to(ROOT)))
    shared = {prefix: sorted(paths) for prefix, paths in homes.items() if len(paths) > 1}
    assert shared == {}
    # and the entities' prefixes live in the store (the rate limiter and the audit log own
    # their tables' keys in their own modules)
    outside = {
        prefix: paths
        for prefix, paths in homes.items()
        if not all("/warung/store/" in p for p in paths)
    }
    assert outside == {
        "RL": {"layers/common/warung/ratelimit.py"},
        "DAY": {"layers/common/warung/audit.py"},
        "ACTOR": {"layers/common/warung/audit.py"},
        "RES": {"layers/common/warung/audit.py"},
        "ACTION": {"layers/common/warung/audit.py"},
    }


def test_the_check_sees_prefixes_in_code_and_not_in_prose() -> None:
    source = (
        '"""Items are ``USER#<id>``."""\n'
        "def key(user_id):\n"
        '    """Reads ``ORDER#``."""\n'
        '    return {"pk": f"MERCHANT#{user_id}", "sk": "MEMBER#" + user_id, "x": "a#b"}\n'
    )
    assert key_prefixes(source) == {"MERCHANT", "MEMBER"}


# ---------------------------------------------------------------- docs/data-model.md


class NumberPlaceholder(int):
    """A placeholder such as ``<created ms>`` for a builder's number argument: an ``int`` (0)
    that formats as its placeholder, since the builders only format their arguments."""

    text: str

    def __new__(cls, text: str) -> NumberPlaceholder:
        placeholder = super().__new__(cls, 0)
        placeholder.text = text
        return placeholder

    def __format__(self, format_spec: str) -> str:
        return self.text


# Each row of the key table, by the start of its first cell: what the builders make with the
# table's own placeholders. Columns: pk, sk, then gsi1..gsi4 as (pk, sk) where the row has one.
ROWS: dict[str, dict[str, Any]] = {
    "outbox job": jobs.outbox_key("<job id>"),
    "job failure": {
        **jobs.job_failure_key("<job id>"),
        **jobs.job_failure_index("<last failed at>", "<job id>"),
    },
    "merchant webhook target": merchants.webhook_key("<id>"),
    "user": {
        **accounts.user_key("<id>"),
        **accounts.account_index("<created>", "<id>", admin=True),
    },
    "e-mail uniqueness": accounts.email_key("<normalised email>"),
    "session": {
        **accounts.session_key("<id>"),
        **accounts.session_index("<id>", NumberPlaceholder("<created ms>")),
    },
    "refresh token": accounts.refresh_token_key("<sha256>"),
    "one-time token": accounts.one_time_token_key("VERIFY", "<sha256>"),
    "merchant": {
        **merchants.merchant_key("<id>"),
        **merchants.merchant_index(
            "<id>", "<created>", "<status>", "<normalised city>", active=True
        ),
    },
    "member": merchants.member_key("<id>", "<user id>"),
    "invitation": {
        **invitations.invitation_key("<id>"),
        **invitations.invitation_index(
            "<id>", "<merchant id>", "<normalised email>", "<invited_at>"
        ),
    },
    "invited address": invitations.invited_address_key("<id>", "<normalised email>"),
    "merchant geo entry": merchants.geo_key("<geohash-4 cell>", "<id>"),
    "product": {
        **products.product_key("<id>"),
        **products.listing_index("<id>", "<merchant id>", "<category>", "<price, 12 digits>#<id>"),
    },
    "product stock": products.stock_key("<id>"),
    "search item": products.search_key("<word prefix>", "<product id>"),
    "cart": orders.cart_key("<id>"),
    "unpaid-order count": orders.pending_orders_key("<id>"),
    "cash-on-delivery standing": orders.cod_standing_key("<id>"),
    "order": {
        **orders.order_key("<id>"),
        **orders.order_index("<id>", "<user id>", "<merchant id>"),
        **orders.pending_index("<id>", "<expires_at>"),
        # the shard is a hash of the id: the table names it
        "gsi4pk": orders.pending_partition(NumberPlaceholder("<shard>")),
    },
    "order number": orders.order_number_key("<WRG-XXXX-XXXX>"),
    "payment": {
        **payments.payment_key("<id>"),
        **payments.day_index("<id>", "<created_at>", "<YYYY-MM-DD>"),
        "gsi1pk": payments.payments_of_day_partition("<YYYY-MM-DD>", NumberPlaceholder("<shard>")),
        **payments.status_index("<id>", "refund_manual", "<since>"),
    },
    "reconciliation report": payments.reconciliation_key("<YYYY-MM-DD>"),
    "provider event seen": payments.event_key("<provider>", "<event id>"),
    "promo code": {**promos.promo_key("<code>"), **promos.promo_index("<created>", "<code>")},
    "promo use by a customer": promos.promo_use_key("<code>", "<user id>"),
    "promo usage counter": promos.promo_shard_key("<code>", cast(int, "<shard>")),
    "promo use by a customer of a sharded code": promos.promo_customer_key("<code>", "<user id>"),
}
# The rate limiter's counters hash their subject: the table shows the shape, not a value.
NOT_BUILT_FROM_PLACEHOLDERS = {"rate-limit window", "sign-in lockout"}


def _key_table() -> dict[str, list[list[str]]]:
    """The data model's key table: entity → per column, the backticked values of the cell."""
    text = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    lines = text.split("| entity | pk | sk |", 1)[1].splitlines()[2:]
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = [re.findall(r"`([^`]+)`", cell) for cell in cells[1:7]]
    return rows


TABLE = _key_table()


def _names(name: str, entity: str) -> bool:
    """Whether the table's first cell ``name`` is ``entity`` (with a remark in brackets)."""
    return name == entity or name.startswith(f"{entity} (")


def _row(entity: str) -> list[list[str]]:
    matches = [name for name in TABLE if _names(name, entity)]
    assert len(matches) == 1, f"{entity!r} matches {matches} in docs/data-model.md"
    return TABLE[matches[0]]


@pytest.mark.parametrize("entity", sorted(ROWS))
def test_the_data_model_table_shows_what_the_builders_build(entity: str) -> None:
    pk, sk, *indexes = _row(entity)
    built = ROWS[entity]
    assert pk[0] == built["pk"]
    assert sk[0] == built["sk"]
    for number, cell in enumerate(indexes, start=1):
        if cell:
            assert cell[:2] == [built[f"gsi{number}pk"], built[f"gsi{number}sk"]], f"gsi{number}"
        else:
            assert f"gsi{number}pk" not in built, f"gsi{number} is not in the table"


def test_every_row_of_the_table_is_checked() -> None:
    checked = {name for name in TABLE for entity in ROWS if _names(name, entity)}
    assert set(TABLE) - checked == NOT_BUILT_FROM_PLACEHOLDERS
