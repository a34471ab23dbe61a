"""Translate template.yaml (SAM) into the plain CloudFormation that the SAM transform deploys.

    .venv-policy/bin/python tools/translate_template.py template.yaml .policy/template.json

The policy checks of `make lint` read the translated template too: the functions' roles, the
API's stage and deployment and the event sources' permissions exist only there. It runs
offline, with neither credentials nor network: the region is samconfig.toml's, the
partition follows from it, managed policies named in the template resolve from the
translator's bundled map (never from IAM), and local code paths become placeholder S3 URIs,
as `sam package` would make them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)
from samtranslator.yaml_helper import yaml_parse

REGION = "ap-southeast-1"  # samconfig.toml: every environment deploys there
PLACEHOLDER_BUCKET = "s3://local-artifacts"

# The properties that `sam package` uploads and replaces with S3 URIs, per resource type.
ARTIFACT_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


def with_placeholder_artifacts(template: dict[str, Any]) -> dict[str, Any]:
    """`template` with every local artifact path replaced by a placeholder S3 URI."""

    def placeholder(properties: dict[str, Any], name: str) -> None:
        value = properties.get(name)
        if isinstance(value, str) and not value.startswith("s3://"):
            properties[name] = f"{PLACEHOLDER_BUCKET}/{value.strip('./') or 'root'}"

    placeholder(template.get("Globals", {}).get("Function", {}), "CodeUri")
    for resource in template.get("Resources", {}).values():
        name = ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        if name:
            placeholder(resource.setdefault("Properties", {}), name)
    return template


def no_managed_policies_from_iam() -> dict[str, str]:
    """The translator's fallback for managed policy names its bundled map lacks: none."""
    return {}


def translate(
    template: dict[str, Any], region: str = REGION, parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """The CloudFormation template that the SAM transform makes of `template` in `region`,
    with `parameters` given as a deploy would give them (the defaults otherwise)."""
    # The translator reads the region, and from it the partition, from this session instead
    # of the environment. Creating a session neither reads credentials nor calls AWS.
    session = boto3.session.Session(region_name=region)
    parameter_values: dict[str, Any] = dict(parameters or {})
    template = with_placeholder_artifacts(template)
    to_py27_compatible_template(template, parameter_values)
    translator = Translator(None, Parser(), boto_session=session)
    translated = translator.translate(
        template, parameter_values, get_managed_policy_map=no_managed_policies_from_iam
    )
    result: dict[str, Any] = undo_mark_unicode_str_in_template(translated)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Translate a SAM template to CloudFormation.")
    parser.add_argument("template", type=Path, help="the SAM template (template.yaml)")
    parser.add_argument("output", type=Path, help="where to write the translated JSON")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter value, as a deploy gives it (repeatable)",
    )
    args = parser.parse_args(argv)
    parameters = dict(item.split("=", 1) for item in args.parameter)
    # Offline there is no feature-toggle configuration to fetch; the defaults are meant.
    logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)
    template = yaml_parse(args.template.read_text(encoding="utf-8"))
    translated = translate(template, parameters=parameters)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(translated, indent=2) + "\n", encoding="utf-8")
    print(f"{args.template} -> {args.output} ({len(translated['Resources'])} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
