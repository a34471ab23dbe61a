"""Powertools' ``event_handler`` package without the resolvers no function here uses.

The package's ``__init__`` imports every resolver Powertools offers (AppSync and AppSync
Events, which import asyncio; Bedrock agents; VPC Lattice; function URLs; the HTTP
resolver), so importing any of its modules, the REST resolver included, costs ~20 ms of
cold start for code that never runs (docs/decisions/0023-first-request-imports.md).

``load_event_handler_lazily()`` puts the package in ``sys.modules`` without running its
``__init__``. Its modules import as usual (``aws_lambda_powertools.event_handler.api_gateway``),
and a name the package exports (``from aws_lambda_powertools.event_handler import
Response``, as Powertools' own modules write it) is imported from its module when it is
first asked for (PEP 562), so nothing that worked before breaks. Each API function's
package calls it first, before anything imports Powertools' event handler.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

PACKAGE = "aws_lambda_powertools.event_handler"

# What the package's __init__ exports, and the module of each name. A unit test holds this
# to the installed Powertools (tests/unit/layer/test_resolver_imports.py).
EXPORTS: dict[str, str] = {
    "ALBResolver": "api_gateway",
    "APIGatewayHttpResolver": "api_gateway",
    "ApiGatewayResolver": "api_gateway",
    "APIGatewayRestResolver": "api_gateway",
    "CORSConfig": "api_gateway",
    "Response": "api_gateway",
    "AppSyncResolver": "appsync",
    "BedrockAgentResolver": "bedrock_agent",
    "BedrockResponse": "bedrock_agent",
    "BedrockAgentFunctionResolver": "bedrock_agent_function",
    "BedrockFunctionResponse": "bedrock_agent_function",
    "DependencyResolutionError": "depends",
    "Depends": "depends",
    "AppSyncEventsResolver": "events_appsync.appsync_events",
    "HttpResolver": "http_resolver",
    "HttpResolverLocal": "http_resolver",
    "LambdaFunctionUrlResolver": "lambda_function_url",
    "Request": "request",
    "VPCLatticeResolver": "vpc_lattice",
    "VPCLatticeV2Resolver": "vpc_lattice",
}


def load_event_handler_lazily() -> None:
    """Register the event handler package with its exports imported on first use.

    Does nothing when the package is imported already (a test run, the local runtime):
    it is then the real one, and stays so.
    """
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        return  # not a package here: let the import fail where it is made, as before
    package = importlib.util.module_from_spec(spec)
    package.__all__ = list(EXPORTS)  # type: ignore[attr-defined]
    setattr(package, "__getattr__", _export)  # noqa: B010 - PEP 562: a module's own __getattr__
    sys.modules[PACKAGE] = package
    parent, _, name = PACKAGE.rpartition(".")
    setattr(sys.modules[parent], name, package)  # as the import system does for a submodule


def _export(name: str) -> Any:
    """A name of the package, imported from its module (then kept on the package)."""
    module = EXPORTS.get(name)
    if module is None:
        # Not an export: a submodule being imported (`from ... import openapi`) lands here.
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{PACKAGE}.{module}"), name)
    setattr(sys.modules[PACKAGE], name, value)
    return value
