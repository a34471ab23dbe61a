"""The layer's trimmed botocore models (warung.clients): the installed botocore's, cut down to
the operations the functions call, and what the layer's clients are made from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import botocore_models
import pytest

from warung import clients


@pytest.fixture
def layer_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    clients.aws_client.cache_clear()
    yield
    clients.aws_client.cache_clear()


def test_the_trimmed_models_are_those_the_installed_botocore_gives() -> None:
    files = botocore_models.rendered_models()

    assert files, "no trimmed model"
    for path, text in files.items():
        assert path.is_file(), f"{path} is missing: run tools/botocore_models.py"
        assert path.read_text(encoding="utf-8") == text, f"run tools/botocore_models.py: {path}"


def test_the_layers_ssm_client_knows_get_parameter_with_botocores_own_shapes(
    layer_clients: None,
) -> None:
    import botocore.session

    full = botocore.session.get_session().get_service_model("ssm")

    trimmed = clients.aws_client("ssm").meta.service_model

    assert trimmed.operation_names == ["GetParameter"]
    ours, theirs = (m.operation_model("GetParameter") for m in (trimmed, full))
    assert ours.input_shape.members.keys() == theirs.input_shape.members.keys()
    assert ours.output_shape.members.keys() == theirs.output_shape.members.keys()
    assert [e.name for e in ours.error_shapes] == [e.name for e in theirs.error_shapes]
    assert dict(trimmed.metadata) == dict(full.metadata)  # the protocol, signing, endpoint


def test_other_services_get_botocores_whole_model(layer_clients: None) -> None:
    import botocore.session

    full = botocore.session.get_session().get_service_model("dynamodb")

    assert clients.aws_client("dynamodb").meta.service_model.operation_names == (
        full.operation_names
    )


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


def _called_methods() -> set[str]:
    """Every ``.name(`` called in the layer and the functions (a superset of their AWS calls)."""
    import ast

    root = Path(__file__).resolve().parents[3]
    called: set[str] = set()
    for folder in (root / "layers" / "common", root / "functions"):
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    called.add(node.func.attr)
    return called


def test_every_operation_the_code_calls_is_in_its_trimmed_model() -> None:
    import botocore.session
    from botocore import xform_name

    called = _called_methods()

    for service, operations in botocore_models.TRIMMED.items():
        full = botocore.session.get_session().get_service_model(service)
        used = {name for name in full.operation_names if xform_name(name) in called}
        assert used <= set(operations), f"add to TRIMMED[{service!r}]: {used - set(operations)}"
