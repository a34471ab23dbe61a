"""One output of a deployed stage's stack, found by the names samconfig.toml gives it.

    python -m warung_ops.stack_outputs ApiUrl [--env dev|prod]

Prints the value alone, for scripts: `make api-url ENV=dev` runs it, and
`API_URL=$(make -s api-url ENV=dev) make e2e` tests the deployed stage. The stack name and
region are those of samconfig.toml's `[<env>.deploy.parameters]`; the credentials are the
caller's (an operator's profile, or the pipeline's role).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMCONFIG = ROOT / "samconfig.toml"


class StackOutputError(Exception):
    """The stack, or the output asked for, is not there."""


def deploy_settings(env: str, samconfig: Path = SAMCONFIG) -> tuple[str, str]:
    """The stack name and region that `sam deploy --config-env <env>` uses."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    parameters = config.get(env, {}).get("deploy", {}).get("parameters")
    if not parameters:
        raise StackOutputError(f"{samconfig.name} has no [{env}.deploy.parameters]")
    return parameters["stack_name"], parameters["region"]


def stack_output(name: str, env: str, samconfig: Path = SAMCONFIG) -> str:
    """The value of the output `name` of the stack deployed for `env`."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    stack_name, region = deploy_settings(env, samconfig)
    client = boto3.client("cloudformation", region_name=region)
    try:
        stacks: list[dict[str, Any]] = client.describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as error:  # no credentials, no stack, no network
        raise StackOutputError(f"stack {stack_name} ({region}): {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if name not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise StackOutputError(f"stack {stack_name} has no output {name} (it has: {known})")
    value: str = outputs[name]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print one output of a stage's stack.")
    parser.add_argument("output", help="the output's key, e.g. ApiUrl")
    parser.add_argument("--env", default="dev", help="samconfig.toml environment (dev, prod)")
    args = parser.parse_args(argv)
    try:
        print(stack_output(args.output, args.env))
    except StackOutputError as error:
        print(f"stack_outputs: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
