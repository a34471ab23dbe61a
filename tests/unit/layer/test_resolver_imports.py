"""Powertools' event handler package, loaded without the resolvers no function uses."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from warung import resolver_imports

LAYER = Path(__file__).resolve().parents[3] / "layers" / "common"


def _exports_of_the_installed_package(package: str) -> dict[str, str]:
    """Each name the installed package's __init__ imports, with the module it comes from
    (absolute, ``from aws_lambda_powertools.event_handler.api_gateway import ...``, or
    relative, ``from .sqs_event import ...``)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    prefix = f"{package}."
    return {
        alias.asname or alias.name: node.module.removeprefix(prefix)
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and node.module
        and (node.level == 1 or node.module.startswith(prefix))
        for alias in node.names
    }


@pytest.mark.parametrize(
    ("package", "exports"),
    [
        (resolver_imports.PACKAGE, resolver_imports.EXPORTS),
        (resolver_imports.DATA_CLASSES, resolver_imports.DATA_CLASS_EXPORTS),
    ],
)
def test_the_lazy_package_exports_what_the_installed_powertools_exports(
    package: str, exports: dict[str, str]
) -> None:
    assert _exports_of_the_installed_package(package) == exports


LAZY_PACKAGE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from warung.resolver_imports import load_event_handler_lazily

    load_event_handler_lazily()
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
    from aws_lambda_powertools.event_handler.api_gateway import Response as Direct
    from aws_lambda_powertools.event_handler.openapi.params import Query

    resolver = APIGatewayRestResolver(enable_validation=True)

    @resolver.get("/ping")
    def ping(name: str = Query("x")) -> dict[str, str]:
        return {"pong": name}

    event = {"httpMethod": "GET", "path": "/ping", "queryStringParameters": {"name": "ok"},
             "headers": {}, "requestContext": {"requestId": "r"}, "body": None}
    answer = resolver.resolve(event, None)
    before = "asyncio" in sys.modules
    from aws_lambda_powertools.event_handler import AppSyncResolver  # still there, on demand

    pipeline = "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event"
    pipeline_before = pipeline in sys.modules
    from aws_lambda_powertools.utilities.data_classes import CodePipelineJobEvent
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
    from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
        APIGatewayProxyEvent as DirectEvent,
    )

    print(json.dumps({
        "other_event_classes_before_asked": pipeline_before,
        "event_class_on_demand": CodePipelineJobEvent.__name__,
        "same_event_class": APIGatewayProxyEvent is DirectEvent,
        "asyncio_before_appsync": before,
        "asyncio_after_appsync": "asyncio" in sys.modules,
        "same_response_class": Response is Direct,
        "appsync": AppSyncResolver.__name__,
        "status": answer["statusCode"],
        "body": json.loads(answer["body"]),
    }))
    """
)


def test_the_rest_resolver_works_without_asyncio_and_other_resolvers_load_on_demand() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-c", LAZY_PACKAGE, str(LAYER)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        "other_event_classes_before_asked": False,
        "event_class_on_demand": "CodePipelineJobEvent",
        "same_event_class": True,
        "asyncio_before_appsync": False,
        "asyncio_after_appsync": True,
        "same_response_class": True,
        "appsync": "AppSyncResolver",
        "status": 200,
        "body": {"pong": "ok"},
    }


REAL_FIRST = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import aws_lambda_powertools.event_handler as real
    from warung.resolver_imports import PACKAGE, load_event_handler_lazily

    load_event_handler_lazily()
    print(json.dumps({
        "kept": sys.modules[PACKAGE] is real,
        "own_names": "AppSyncResolver" in vars(real),  # its __init__ ran
    }))
    """
)


def test_an_event_handler_imported_already_is_left_as_it_is() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-c", REAL_FIRST, str(LAYER)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"kept": True, "own_names": True}
