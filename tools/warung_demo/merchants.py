"""Demo merchants for the local runtime (the demo owner runs active merchants: docs/product.md).

    python -m warung_demo.merchants seed-demo [--endpoint URL]   # local runtime only

Three active merchants in Jakarta (Gambir, Kemang, Kelapa Gading), each with a menu of
12+ products over several categories, all owned by the demo owner. They go through the
catalog function's own use cases (open, approve as the operator, add products), with the
bodies checked by the same request models the routes use, so the demo merchants have
exactly the items, index entries and audit trail real ones have.
Idempotent: an owner who already belongs to a merchant gets nothing more.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from warung_ops.accounts import LOCAL_ENDPOINT_HELP, ROOT, configure

DEMO_OWNER = "owner@example.com"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _product(
    name: str,
    price: int,
    category: str,
    description: str,
    *,
    stock: int | None = None,
    tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "price": price,
        "category": category,
        "tags": list(tags),
        "stock": stock,
    }


# Each merchant: the POST /v1/merchants body and its menu (POST .../products bodies).
# Stock is tracked for what runs out (counted portions, packaged goods); ``None`` is not
# tracked (cooked to order). One item is sold out (stock 0) for front-end work.
DEMO_MERCHANTS: tuple[tuple[dict[str, Any], tuple[dict[str, Any], ...]], ...] = (
    (
        {
            "name": "Warung Bu Budi",
            "description": "Masakan rumahan dekat Monas: nasi goreng, soto, es teh.",
            "phone": "+6281200000001",
            "address": {
                "line1": "Jl. Medan Merdeka Barat No. 1, Gambir, Jakarta Pusat",
                "city": "Jakarta",
                "postal_code": "10110",
            },
            "location": {"lat": -6.1754, "lon": 106.8272},
            "opening_hours": {day: ["06:00-22:00"] for day in EVERY_DAY},
        },
        (
            _product(
                "Nasi Goreng Spesial",
                28000,
                "food",
                "Nasi goreng kecap dengan telur mata sapi, ayam suwir dan kerupuk.",
                tags=("nasi", "pedas"),
            ),
            _product(
                "Nasi Uduk Komplit",
                22000,
                "food",
                "Nasi uduk santan, ayam goreng, tempe orek, bihun dan sambal kacang.",
                tags=("nasi", "sarapan"),
            ),
            _product(
                "Soto Ayam Lamongan",
                25000,
                "food",
                "Kuah kuning, ayam suwir, soun, telur rebus dan koya.",
                tags=("soto", "berkuah"),
            ),
            _product(
                "Gado-Gado Betawi",
                23000,
                "food",
                "Sayuran rebus, lontong, tahu, tempe dengan bumbu kacang.",
                tags=("vegetarian",),
            ),
            _product(
                "Ayam Goreng Kremes",
                30000,
                "food",
                "Ayam kampung goreng dengan kremesan, lalapan dan sambal terasi.",
                stock=20,
                tags=("ayam",),
            ),
            _product(
                "Mie Goreng Jawa",
                24000,
                "food",
                "Mie kuning dimasak di atas anglo, dengan sawi dan telur.",
                tags=("mie",),
            ),
            _product("Es Teh Manis", 5000, "drinks", "Teh melati dengan gula pasir dan es."),
            _product("Es Jeruk Peras", 8000, "drinks", "Jeruk peras segar dengan es."),
            _product("Kopi Tubruk", 7000, "drinks", "Kopi robusta Lampung, diseduh dengan gula."),
            _product(
                "Es Cendol Dawet",
                12000,
                "drinks",
                "Cendol pandan, santan dan gula merah.",
                stock=25,
            ),
            _product(
                "Pisang Goreng (5 pcs)",
                12000,
                "snacks",
                "Pisang kepok goreng tepung, renyah.",
                stock=30,
            ),
            _product(
                "Tahu Isi (4 pcs)", 10000, "snacks", "Tahu goreng isi sayuran, dengan cabai rawit."
            ),
            _product(
                "Kerupuk Udang", 4000, "snacks", "Sebungkus kerupuk udang Sidoarjo.", stock=50
            ),
            _product(
                "Telur Ayam Negeri (10 butir)",
                28000,
                "groceries",
                "Telur ayam segar, sepuluh butir.",
                stock=15,
            ),
            _product(
                "Beras Pandan Wangi 5 kg",
                78000,
                "groceries",
                "Beras pulen Cianjur, karung 5 kg.",
                stock=10,
            ),
        ),
    ),
    (
        {
            "name": "Dapur Mbak Sari Kemang",
            "description": "Masakan Nusantara dan kopi susu gula aren di Kemang.",
            "phone": "+6281200000002",
            "address": {
                "line1": "Jl. Kemang Raya No. 18, Bangka, Mampang Prapatan, Jakarta Selatan",
                "city": "Jakarta",
                "postal_code": "12730",
            },
            "location": {"lat": -6.2607, "lon": 106.8137},
            "delivery": {"base_fee": 10000, "per_km_fee": 3000, "max_distance_km": 12},
            "opening_hours": {
                **{day: ["10:00-23:00"] for day in ("mon", "tue", "wed", "thu", "sun")},
                "fri": ["10:00-24:00"],
                "sat": ["10:00-24:00"],
            },
        },
        (
            _product(
                "Nasi Goreng Kampung",
                32000,
                "food",
                "Nasi goreng terasi dengan ikan teri, petai dan telur ceplok.",
                tags=("nasi", "pedas"),
            ),
            _product(
                "Nasi Campur Bali",
                45000,
                "food",
                "Ayam betutu, sate lilit, lawar, sambal matah.",
                tags=("nasi",),
            ),
            _product(
                "Sate Ayam Madura (10 tusuk)",
                38000,
                "food",
                "Sate ayam bumbu kacang, dengan lontong.",
                tags=("sate", "ayam"),
            ),
            _product(
                "Rendang Sapi",
                55000,
                "food",
                "Rendang daging sapi dimasak delapan jam, dengan nasi putih.",
                stock=12,
                tags=("sapi", "pedas"),
            ),
            _product("Bakso Urat", 30000, "food", "Bakso urat sapi, mie, bihun dan kuah kaldu."),
            _product(
                "Soto Betawi",
                40000,
                "food",
                "Kuah santan dan susu, daging dan babat sapi, emping.",
                tags=("soto", "berkuah"),
            ),
            _product(
                "Es Kopi Susu Gula Aren",
                25000,
                "drinks",
                "Espresso, susu segar dan gula aren.",
                tags=("kopi",),
            ),
            _product("Es Teh Manis", 8000, "drinks", "Teh tubruk dengan gula dan es batu."),
            _product("Jus Alpukat", 22000, "drinks", "Alpukat mentega, susu kental manis cokelat."),
            _product("Wedang Jahe", 15000, "drinks", "Jahe merah bakar, serai dan gula batu."),
            _product(
                "Martabak Manis Mini",
                20000,
                "snacks",
                "Martabak cokelat keju, empat potong.",
                stock=25,
            ),
            _product(
                "Risoles Mayo (3 pcs)",
                18000,
                "snacks",
                "Risoles isi smoked beef, telur dan mayones.",
                stock=0,
            ),
            _product("Singkong Keju", 20000, "snacks", "Singkong goreng merekah, taburan keju."),
            _product(
                "Sambal Bawang Botol 150 g",
                35000,
                "groceries",
                "Sambal bawang racikan dapur, dalam botol kaca.",
                stock=20,
                tags=("pedas",),
            ),
        ),
    ),
    (
        {
            "name": "Kedai Pak Harjo",
            "description": "Bakmi, nasi goreng seafood dan jajanan di Kelapa Gading, buka 24 jam.",
            "phone": "+6281200000003",
            "address": {
                "line1": "Jl. Boulevard Raya Blok QA1 No. 5, Kelapa Gading, Jakarta Utara",
                "city": "Jakarta",
                "postal_code": "14240",
            },
            "location": {"lat": -6.1589, "lon": 106.9056},
            "opening_hours": {day: ["00:00-24:00"] for day in EVERY_DAY},
        },
        (
            _product(
                "Nasi Goreng Seafood",
                38000,
                "food",
                "Nasi goreng dengan udang, cumi dan bakso ikan.",
                tags=("nasi", "seafood"),
            ),
            _product(
                "Nasi Uduk Ayam Bakar",
                33000,
                "food",
                "Nasi uduk dengan ayam bakar kecap dan lalapan.",
                tags=("nasi", "ayam"),
            ),
            _product(
                "Bakmi Ayam Jamur", 28000, "food", "Bakmi kenyal, ayam kecap, jamur dan pangsit."
            ),
            _product(
                "Kwetiau Goreng Sapi",
                35000,
                "food",
                "Kwetiau lebar, irisan daging sapi, tauge, kucai.",
            ),
            _product(
                "Cap Cay Kuah",
                32000,
                "food",
                "Sayuran, bakso ikan dan ayam dalam kuah kental.",
                tags=("sayur",),
            ),
            _product(
                "Soto Ayam Kampung",
                27000,
                "food",
                "Soto bening ayam kampung dengan perkedel.",
                tags=("soto", "berkuah"),
            ),
            _product("Es Teh Manis", 6000, "drinks", "Teh manis dingin, gelas besar."),
            _product("Es Campur", 18000, "drinks", "Cincau, kolang-kaling, alpukat, sirup merah."),
            _product("Teh Botol Sosro 450 ml", 6000, "drinks", "Teh melati dalam botol.", stock=48),
            _product("Air Mineral 600 ml", 5000, "drinks", "Air mineral dalam botol.", stock=60),
            _product(
                "Lumpia Semarang (2 pcs)",
                15000,
                "snacks",
                "Lumpia goreng isi rebung dan udang.",
                stock=20,
            ),
            _product(
                "Siomay Bandung", 22000, "snacks", "Siomay ikan tenggiri, kol, pare, kentang."
            ),
            _product(
                "Pempek Kapal Selam",
                25000,
                "snacks",
                "Pempek isi telur dengan cuko Palembang.",
                stock=15,
            ),
            _product(
                "Kecap Manis 520 ml",
                24000,
                "groceries",
                "Kecap manis kedelai hitam, botol 520 ml.",
                stock=12,
            ),
            _product("Kantong Belanja Kain", 10000, "other", "Tas belanja kain, bisa dicuci."),
        ),
    ),
)


def seed_demo() -> None:
    """Open, approve and stock the demo owner's merchants unless the owner already has one."""
    sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers" / "common")]
    # The catalog function's own package: one set of catalog rules.
    from catalog.models import merchants as merchant_models
    from catalog.models import products as product_models
    from catalog.repository import merchants as repository
    from catalog.service import merchants as service
    from catalog.service import products as product_service
    from warung.context import RequestMeta
    from warung.ids import new_id

    meta = RequestMeta(f"operator-{new_id()}", None, "warung_demo.merchants")
    owner = repository.find_account(DEMO_OWNER)
    if owner is None:
        print(f"demo merchants: skipped ({DEMO_OWNER} does not exist)")
        return
    existing = sorted(repository.memberships_of(owner["user_id"]))
    if existing:
        for merchant_id in existing:
            found = repository.get_merchant(merchant_id)
            name = found[0].name if found else "?"
            print(f"demo merchant {merchant_id} {name} (owner {DEMO_OWNER})")
        return
    for profile, menu in DEMO_MERCHANTS:
        # What POST /v1/merchants and POST .../products would accept, as their routes pass it.
        body = merchant_models.MerchantCreate.model_validate(profile).model_dump()
        merchant = service.open_merchant(owner["user_id"], body, meta)
        service.change_status("operator", merchant.merchant_id, "active", meta)
        for product in menu:
            data = product_models.ProductCreate.model_validate(product).model_dump()
            product_service.add_product(owner["user_id"], merchant.merchant_id, data, meta)
        categories = len({p["category"] for p in menu})
        print(
            f"demo merchant {merchant.merchant_id} {merchant.name} "
            f"({len(menu)} products in {categories} categories; owner {DEMO_OWNER})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="Demo merchants (local runtime only).")
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed-demo", help="open, approve and stock the demo merchants")
    seed.add_argument("--endpoint", help=LOCAL_ENDPOINT_HELP)
    args = parser.parse_args()
    from warung_local.local_data import NoLocalRuntime

    try:
        configure("local", args.endpoint, "ap-southeast-1")
    except NoLocalRuntime as exc:
        print(exc, file=sys.stderr)
        return 2
    seed_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
