"""Demo data for the local runtime.

A seeder is a function `(template, endpoint_url) -> list[str]` that writes demo data
into the emulation and returns lines to print (e.g. the demo accounts). It must be
idempotent: `dev` runs every seeder at each start, against tables that may already
hold its data.

No seeder is registered yet: the user, merchant and product logic that the demo
accounts need (password hashing, key layout) does not exist yet, and seeding must go
through that logic rather than invent a layout here. The modules that add it call
`register` (see `SEEDERS`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from warung_local.template import Template

log = logging.getLogger("warung_local.seed")

Seeder = Callable[[Template, str], list[str]]

SEEDERS: list[Seeder] = []


def register(seeder: Seeder) -> Seeder:
    """Add a seeder (usable as a decorator); seeders run in registration order."""
    SEEDERS.append(seeder)
    return seeder


def seed(template: Template, endpoint_url: str) -> list[str]:
    """Run every registered seeder; the lines they report, for the startup banner."""
    lines: list[str] = []
    for seeder in SEEDERS:
        lines.extend(seeder(template, endpoint_url))
    if not SEEDERS:
        log.info("no demo data to seed yet")
    return lines
