"""Put a stage's functions back on their previous version by hand (an operator command).

    python -m warung_ops.rollback --stage prod [--function auth] [--region R] [--dry-run]

A release that goes wrong during its canary rolls itself back (CodeDeploy, when an alarm of
the function goes off or the pre-traffic check fails: docs/runbook.md). This is for a
release that passed its canary and turned out wrong later: for every released function of
the stage (or the one named), the ``live`` alias, which API Gateway and the event sources
call, is pointed at the version before the one it serves, at once and for all traffic.

It changes only aliases: the versions stay, and the next `make deploy` of a fixed commit
releases a new version through the canary as usual. Nothing is rolled back in the data.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ALIAS = "live"
DEFAULT_REGION = "ap-southeast-1"
# The functions a release publishes (template.yaml: AutoPublishAlias), by their short names.
RELEASED = (
    "auth",
    "catalog",
    "orders",
    "payments",
    "platform",
    "worker",
    "outbox-relay",
    "order-expiry",
)


@dataclass(frozen=True)
class Step:
    """One alias move: ``function`` from ``current`` to ``previous`` (``None``: none older)."""

    function: str
    current: str
    previous: str | None


def previous_version(client: Any, function: str, current: str) -> str | None:
    """The newest published version older than ``current``."""
    versions: list[int] = []
    for page in client.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        versions += [int(v["Version"]) for v in page["Versions"] if v["Version"].isdigit()]
    older = [v for v in versions if v < int(current)]
    return str(max(older)) if older else None


def plan(client: Any, functions: Sequence[str]) -> list[Step]:
    """Where each function's alias is and where it would go."""
    steps = []
    for function in functions:
        current = client.get_alias(FunctionName=function, Name=ALIAS)["FunctionVersion"]
        steps.append(Step(function, current, previous_version(client, function, current)))
    return steps


def apply(client: Any, steps: Sequence[Step]) -> None:
    """Move every alias that has somewhere to go; all traffic, no weights left over."""
    for step in steps:
        if step.previous is not None:
            client.update_alias(
                FunctionName=step.function,
                Name=ALIAS,
                FunctionVersion=step.previous,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m warung_ops.rollback",
        description="Point a stage's live aliases at their previous versions.",
    )
    parser.add_argument("--stage", choices=("dev", "prod"), required=True)
    parser.add_argument("--function", choices=RELEASED, help="only this function")
    parser.add_argument("--region", default=None)
    parser.add_argument("--dry-run", action="store_true", help="say what would move, move nothing")
    args = parser.parse_args(argv)

    import boto3
    import botocore.exceptions

    region = args.region or os.environ.get("AWS_REGION") or DEFAULT_REGION
    client = boto3.session.Session(region_name=region).client("lambda")
    names = [
        f"warung-{args.stage}-{short}" for short in ([args.function] if args.function else RELEASED)
    ]
    try:
        steps = plan(client, names)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        print(f"rollback: cannot read the aliases of warung-{args.stage}: {error}", file=sys.stderr)
        return 1
    for step in steps:
        if step.previous is None:
            print(f"{step.function}: {ALIAS} stays on {step.current} (no older version)")
        else:
            verb = "would move" if args.dry_run else "moved"
            print(f"{step.function}: {ALIAS} {verb} from {step.current} to {step.previous}")
    if not args.dry_run:
        apply(client, steps)
    return 0 if any(step.previous for step in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
