"""The layer's botocore data directory (warung.clients): the installed botocore's data, cut
down to the services and operations the functions call, and all the layer's clients read."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore_models
import pytest

from warung import clients

ROOT = Path(__file__).resolve().parents[3]

# Calls the scan below takes for AWS operations but are not: `repository.get_account(...)`
# (a Warung account) is also SESv2's GetAccount.
NOT_AWS_CALLS = {"sesv2": {"GetAccount"}}


@pytest.fixture
def layer_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    clients.aws_client.cache_clear()
    yield
    clients.aws_client.cache_clear()


def _botocores_own_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def test_the_directory_is_what_the_tool_writes_from_the_installed_botocore(
    tmp_path: Path,
) -> None:
    # Given the directory written afresh from the installed botocore
    written = botocore_models.write(tmp_path / "botocore_models")

    # Then the layer's is the same, file for file
    theirs = {p.relative_to(tmp_path / "botocore_models"): p for p in written}
    ours = {p.relative_to(clients.MODELS): p for p in clients.MODELS.rglob("*") if p.is_file()}
    assert sorted(ours) == sorted(theirs), "run tools/botocore_models.py"
    for name, path in theirs.items():
        assert ours[name].read_bytes() == path.read_bytes(), f"run tools/botocore_models.py: {name}"


def test_the_layers_session_knows_only_the_services_of_the_directory(layer_clients: None) -> None:
    session = clients._botocore_session()

    assert session.get_component("data_loader").search_paths == [str(clients.MODELS)]
    assert session.get_available_services() == sorted(botocore_models.OPERATIONS)


def test_a_service_or_operation_outside_the_directory_fails_loudly(layer_clients: None) -> None:
    from botocore.exceptions import UnknownServiceError

    with pytest.raises(UnknownServiceError):
        clients.aws_client("sts")
    with pytest.raises(AttributeError):
        clients.aws_client("dynamodb").scan  # noqa: B018 - the attribute is the test


@pytest.mark.parametrize("service", sorted(botocore_models.OPERATIONS))
def test_each_client_has_its_operations_with_botocores_own_shapes(
    service: str, layer_clients: None
) -> None:
    full = _botocores_own_session().get_service_model(service)

    trimmed = clients.aws_client(service).meta.service_model

    assert trimmed.operation_names == sorted(botocore_models.OPERATIONS[service])
    assert dict(trimmed.metadata) == dict(full.metadata)  # the protocol, signing, endpoint
    for name in trimmed.operation_names:
        ours, theirs = trimmed.operation_model(name), full.operation_model(name)
        for shape in ("input_shape", "output_shape"):
            assert _members(getattr(ours, shape)) == _members(getattr(theirs, shape)), name
        assert [e.name for e in ours.error_shapes] == [e.name for e in theirs.error_shapes]
        assert ours.http == theirs.http
        assert ours.static_context_parameters == theirs.static_context_parameters


def _members(shape: Any, depth: int = 3) -> Any:
    """A shape's structure a few levels down: member names and types."""
    if shape is None or depth == 0:
        return None if shape is None else shape.type_name
    if shape.type_name == "structure":
        return {name: _members(member, depth - 1) for name, member in shape.members.items()}
    if shape.type_name == "list":
        return [_members(shape.member, depth - 1)]
    if shape.type_name == "map":
        return {"key": _members(shape.key, depth - 1), "value": _members(shape.value, depth - 1)}
    return shape.type_name


class _Sent(Exception):
    """Raised in place of sending: the test wants the request, not an answer."""


# One call per service, with what the call needs to build its request
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "dynamodb": ("get_item", {"TableName": "warung", "Key": {"pk": {"S": "a"}}}),
    "lambda": ("invoke", {"FunctionName": "warung-payments"}),
    "s3": ("put_object", {"Bucket": "warung-audit", "Key": "a.json", "Body": b"{}"}),
    "secretsmanager": ("get_secret_value", {"SecretId": "warung/signing-key"}),
    "sesv2": (
        "send_email",
        {
            "FromEmailAddress": "orders@warung.test",
            "Destination": {"ToAddresses": ["buyer@warung.test"]},
            "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        },
    ),
    "sqs": ("send_message", {"QueueUrl": "https://sqs.example/1/jobs", "MessageBody": "{}"}),
    "ssm": ("get_parameter", {"Name": "/warung/jwks"}),
}


def _request(session: Any, service: str, region: str, **credentials: str) -> tuple[str, str]:
    """The URL a client of ``session`` sends its call to, and the scope it signs it for."""
    client = session.create_client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **credentials,
    )
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request)
        raise _Sent

    client.meta.events.register("before-send", capture)
    operation, params = CALLS[service]
    with pytest.raises(_Sent):
        getattr(client, operation)(**params)
    authorization = sent[0].headers["Authorization"].decode()
    scope = re.search(r"Credential=[^/]+/\d+/([^,]+),", authorization)
    assert scope is not None, authorization
    return sent[0].url, scope.group(1)


def test_the_calls_cover_every_service_of_the_directory() -> None:
    assert sorted(CALLS) == sorted(botocore_models.OPERATIONS)


@pytest.mark.parametrize("region", ["ap-southeast-1", "us-east-1"])
@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_call_goes_where_botocores_own_data_sends_it(
    service: str, region: str, layer_clients: None
) -> None:
    theirs = _request(_botocores_own_session(), service, region)

    ours = _request(clients._botocore_session(), service, region)

    assert ours == theirs
    url, scope = ours
    assert url.startswith("https://"), url
    assert ".amazonaws.com/" in url, url  # AWS's endpoint, not a stand-in
    assert scope.startswith(f"{region}/"), scope


def test_dynamodb_calls_go_to_the_accounts_own_endpoint_when_the_credentials_name_it(
    layer_clients: None,
) -> None:
    # DynamoDB's rule set picks an endpoint of the caller's account when the credentials
    # carry its id: only if botocore takes the directory for its own data (with data of its
    # own, botocore would hand the rule set the regional endpoint to use instead)
    account = {"aws_account_id": "123456789012"}
    theirs = _request(_botocores_own_session(), "dynamodb", "ap-southeast-1", **account)

    ours = _request(clients._botocore_session(), "dynamodb", "ap-southeast-1", **account)

    assert ours == theirs
    assert ours[0] == "https://123456789012.ddb.ap-southeast-1.amazonaws.com/"


def test_every_client_shares_one_session(
    layer_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session

    made: list[object] = []
    real = botocore.session.get_session

    def counted() -> object:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(botocore.session, "get_session", counted)
    monkeypatch.setattr(clients, "_session", None)

    for service in ("dynamodb", "ssm", "secretsmanager"):
        clients.aws_client(service)

    assert len(made) == 1


def _code() -> list[ast.AST]:
    """The layer, the functions, and Powertools' idempotency store (the orders checkout and
    the worker hand it the layer's DynamoDB client)."""
    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb

    paths = [Path(dynamodb.__file__)]
    for folder in (ROOT / "layers" / "common", ROOT / "functions"):
        paths += folder.rglob("*.py")
    return [ast.parse(path.read_text(encoding="utf-8")) for path in paths]


def test_every_service_the_code_makes_a_client_of_is_in_the_directory() -> None:
    made = {
        node.args[0].value
        for tree in _code()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "aws_client"
        and isinstance(node.args[0], ast.Constant)
    }

    assert made, "no aws_client call found"
    assert made <= set(botocore_models.OPERATIONS), "add them to tools/botocore_models.py"


def test_every_operation_the_code_calls_is_in_its_trimmed_model() -> None:
    from botocore import xform_name

    # every `.name(` called: a superset of the operations called on the layer's clients
    called = {
        node.func.attr
        for tree in _code()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }

    for service, operations in botocore_models.OPERATIONS.items():
        full = _botocores_own_session().get_service_model(service)
        used = {name for name in full.operation_names if xform_name(name) in called}
        used -= NOT_AWS_CALLS.get(service, set())
        missing = used - set(operations)
        assert not missing, f"add to OPERATIONS[{service!r}] in tools/botocore_models.py"
