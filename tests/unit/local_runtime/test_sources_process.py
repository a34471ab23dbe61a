"""Which functions' event sources `dev` runs out of process, and how it tells the child."""

from __future__ import annotations

from pathlib import Path

import pytest

from warung_local.cli import build_parser, env_file_document, parse_overrides
from warung_local.config import load_config
from warung_local.sources_process import (
    SourcesProcess,
    addresses_api,
    callers_of_api,
    physical_from_json,
    physical_to_json,
)
from warung_local.template import PhysicalResources, load_template

REPO = Path(__file__).resolve().parents[3]
CALLBACK_TEMPLATE = REPO / "tests/integration/local_runtime/callback_app/template.yaml"
API = "http://127.0.0.1:3000"


@pytest.mark.parametrize(
    ("value", "api_url", "expected"),
    [
        ("http://127.0.0.1:3000/v1/payments/webhook", API, True),
        ("http://localhost:3000", API, True),
        ("see http://0.0.0.0:3000/x, then retry", API, True),
        ("http://127.0.0.1:3000/v1/payments/webhook", "http://0.0.0.0:3000", True),
        ("http://127.0.0.1:4566", API, False),  # the emulation, not the API
        ("http://127.0.0.1:30001/x", API, False),
        ("https://1234567890.execute-api.ap-southeast-1.amazonaws.com/local/v1/x", API, False),
        ("http://192.168.1.5:3000/x", "http://192.168.1.5:3000", True),
        ("http://127.0.0.1:3000/x", "http://192.168.1.5:3000", False),
        ("http://example.com:3000/x", API, False),
        ("127.0.0.1:3000", API, False),  # not a URL
        ("http://127.0.0.1:99999/x", API, False),  # not a port
    ],
)
def test_a_value_addresses_the_api_when_it_holds_its_url(
    value: str, api_url: str, expected: bool
) -> None:
    assert addresses_api(value, api_url) is expected


def test_functions_told_the_api_address_are_the_callers() -> None:
    config = load_config(CALLBACK_TEMPLATE)
    told = load_template(CALLBACK_TEMPLATE, config.parameters(API))
    not_told = load_template(CALLBACK_TEMPLATE, config.parameters())

    assert callers_of_api(told, API) == ["CallerFunction"]
    assert callers_of_api(not_told, API) == []  # the deployed API's address


def test_in_the_application_the_worker_calls_the_api() -> None:
    template = load_template(
        REPO / "template.yaml", load_config(REPO / "template.yaml").parameters(API)
    )

    assert callers_of_api(template, API) == ["WorkerFunction"]
    worker = template.functions["WorkerFunction"].environment
    assert worker["PAYMENT_WEBHOOK_URL"] == f"{API}/v1/payments/webhook"


def test_a_user_override_of_the_webhook_url_wins() -> None:
    own = "http://127.0.0.1:8080/hook"
    overrides = load_config(REPO / "template.yaml").parameters(API, {"PaymentWebhookUrl": own})

    template = load_template(REPO / "template.yaml", overrides)

    assert template.functions["WorkerFunction"].environment["PAYMENT_WEBHOOK_URL"] == own


def test_the_docker_env_file_points_the_webhook_at_port_3000_of_the_docker_host() -> None:
    document = env_file_document(REPO / "template.yaml", "http://172.17.0.1:4566")

    assert document["WorkerFunction"]["PAYMENT_WEBHOOK_URL"] == (
        "http://172.17.0.1:3000/v1/payments/webhook"
    )


def test_the_child_parses_the_command_the_parent_builds() -> None:
    physical = PhysicalResources(
        queue_urls={"CallsQueue": "http://127.0.0.1:4566/123456789012/calls"},
        stream_arns={"Table": "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t/stream/x"},
    )
    overrides = {"Stage": "local", "PaymentWebhookUrl": f"{API}/v1/payments/webhook", "Empty": ""}
    child = SourcesProcess(
        CALLBACK_TEMPLATE,
        overrides,
        ["CallerFunction", "OtherFunction"],
        "http://127.0.0.1:4566",
        physical,
        verbose=True,
    )

    command = child.command()
    args = build_parser().parse_args(command[3:])  # after python -m warung_local

    assert (args.verbose, args.command) == (True, "sources")
    assert Path(args.template) == CALLBACK_TEMPLATE.resolve()
    assert args.functions == ["CallerFunction", "OtherFunction"]
    assert args.endpoint == "http://127.0.0.1:4566"
    assert args.stop_on_stdin_eof
    assert parse_overrides(args.parameter_overrides) == overrides
    assert physical_from_json(args.physical) == physical


def test_physical_values_survive_json() -> None:
    physical = PhysicalResources(
        queue_urls={"Q": "http://h/q"},
        stream_arns={"T": "arn:s"},
        secret_arns={"S": "arn:x"},
        parameter_names={"P": "/p"},
    )

    assert physical_from_json(physical_to_json(physical)) == physical
