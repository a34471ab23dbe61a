"""`make simulate`: a synthetic day on the local runtime and the model at a target peak.

python -m warung_sim [--orders N] [--population-scale S] [--target ORDERS_PER_S] [--raw]
    [--signed-in-share S] [--cache-nodes P] [--catalog-containers N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Sequence

from warung_sim.day import DayPlan
from warung_sim.model import CACHE_NODES, SIGNED_IN_SHARE
from warung_sim.population import Population
from warung_sim.report import print_report
from warung_sim.simulate import run_day

FULL = Population()  # 500 merchants, 50,000 customers, menus of 10-60 products
DEFAULT_SCALE = 0.1  # of the full population: what fits in a few minutes here


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--orders", type=int, default=DayPlan.orders, help="orders over the day")
    p.add_argument(
        "--population-scale",
        type=float,
        default=DEFAULT_SCALE,
        help="share of the full population (500 merchants, 50,000 customers) to seed",
    )
    p.add_argument("--target", type=float, default=1000.0, help="peak orders/s to scale to")
    p.add_argument(
        "--raw",
        action="store_true",
        help="every partition key on its own: no sharded families, no cache in front",
    )
    p.add_argument(
        "--signed-in-share",
        type=float,
        default=SIGNED_IN_SHARE,
        help="share of the cacheable reads sent with a token (never cached)",
    )
    p.add_argument(
        "--cache-nodes", type=int, default=CACHE_NODES, help="CloudFront caches in front (P)"
    )
    p.add_argument(
        "--catalog-containers",
        type=int,
        default=0,
        help="catalog containers whose read caches the model counts (default: its concurrency "
        "at the target, from the durations measured here)",
    )
    p.add_argument("--json", action="store_true", help="the figures as JSON after the report")
    args = p.parse_args(argv)
    if os.environ.get("API_URL"):
        print(
            "warung_sim: API_URL is set, but the day runs on the local runtime only: the key "
            "trace needs the functions in this process. Unset API_URL.",
            file=sys.stderr,
        )
        return 2
    scale = min(1.0, max(0.001, args.population_scale))
    population = Population(
        merchants=max(5, round(FULL.merchants * scale)),
        customers=max(50, round(FULL.customers * scale)),
    )
    started = time.perf_counter()
    sink = io.StringIO()  # the functions' own log lines
    with contextlib.redirect_stdout(sink):
        trace = run_day(
            population,
            DayPlan(orders=args.orders),
            progress=lambda m: print(m, file=sys.stderr, flush=True),
        )
    figures = print_report(
        trace,
        args.target,
        FULL.merchants / population.merchants,
        raw=args.raw,
        signed_in_share=min(1.0, max(0.0, args.signed_in_share)),
        cache_nodes=max(1, args.cache_nodes),
        catalog_containers=max(0, args.catalog_containers),
    )
    print(f"\nmake simulate: {time.perf_counter() - started:.0f} s in all")
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
