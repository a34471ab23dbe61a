"""The emulation's Lambda Invoke runs the template's functions, and its CodeDeploy records
the verdicts of deployment hooks: what the pre-traffic hook calls, locally.

`invoke_app` is served by an in-process runtime, as `dev` serves Warung: its NoteFunction
writes to a table of the emulation while the Invoke is being answered, and its
RelayFunction invokes another function through the Lambda API.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from warung_local.emulation import aws_client
from warung_local.runtime import LocalRuntime

# Only a guard: a deadlocked Invoke fails its test instead of hanging the suite.
GUARD = Config(read_timeout=30, retries={"max_attempts": 1})


def _client(runtime: LocalRuntime, service: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=runtime.template.region,
    ).client(service, endpoint_url=runtime.endpoint_url, config=GUARD)


def _invoke(runtime: LocalRuntime, reference: str, event: Any, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = _client(runtime, "lambda").invoke(
        FunctionName=reference, Payload=json.dumps(event).encode(), **extra
    )
    answer["Payload"] = json.loads(answer["Payload"].read())
    return answer


def _note_references(runtime: LocalRuntime) -> dict[str, tuple[str, dict[str, str]]]:
    spec = runtime.template.functions["NoteFunction"]
    account_arn = spec.arn.split(":", 4)[4]  # 123456789012:function:<name>
    return {
        "name": (spec.name, {}),
        "ARN": (spec.arn, {}),
        "partial ARN": (account_arn, {}),
        "name:live": (f"{spec.name}:live", {}),
        "ARN:live": (f"{spec.arn}:live", {}),
        "ARN:$LATEST": (f"{spec.arn}:$LATEST", {}),
        "ARN:7": (f"{spec.arn}:7", {}),
        "Qualifier=live": (spec.name, {"Qualifier": "live"}),
    }


REFERENCES = [
    "name",
    "ARN",
    "partial ARN",
    "name:live",
    "ARN:live",
    "ARN:$LATEST",
    "ARN:7",
    "Qualifier=live",
]


# ------------------------------------------------------------------ Lambda Invoke


@pytest.mark.parametrize("form", REFERENCES)
def test_invoke_runs_the_template_function_however_it_is_named(
    invoke_runtime: LocalRuntime, form: str
) -> None:
    # given: a function named by its name, its ARN, or either with a qualifier
    reference, extra = _note_references(invoke_runtime)[form]
    note = f"note-{uuid.uuid4().hex[:8]}"

    # when: it is invoked through the Lambda API
    answer = _invoke(invoke_runtime, reference, {"note": note}, **extra)

    # then: its handler ran with its template environment, and answered as Lambda does
    spec = invoke_runtime.template.functions["NoteFunction"]
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["Payload"] == {
        "stored": note,
        "greeting": "from-the-template",
        "function_name": spec.name,
    }
    assert answer["ExecutedVersion"] == "$LATEST"


def test_a_handler_that_calls_the_emulation_during_the_invoke_does_not_deadlock(
    invoke_runtime: LocalRuntime,
) -> None:
    # given: a handler that writes to and reads from a table of the emulation it is invoked by
    note = f"note-{uuid.uuid4().hex[:8]}"
    name = invoke_runtime.template.functions["NoteFunction"].name

    # when: it is invoked (the emulation serialises its requests with one lock)
    answer = _invoke(invoke_runtime, name, {"note": note})

    # then: it answered, and what it wrote is in the table
    assert answer["Payload"]["stored"] == note
    table = invoke_runtime.template.tables["NotesTable"].name
    item = aws_client("dynamodb", invoke_runtime.endpoint_url).get_item(
        TableName=table, Key={"pk": {"S": note}}
    )
    assert item["Item"] == {"pk": {"S": note}}


def test_a_handler_exception_is_an_unhandled_function_error(invoke_runtime: LocalRuntime) -> None:
    name = invoke_runtime.template.functions["NoteFunction"].name

    answer = _invoke(invoke_runtime, name, {"fail": "the note is too long"})

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = answer["Payload"]
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "the note is too long")
    assert error["requestId"] == answer["ResponseMetadata"]["RequestId"]
    assert isinstance(error["stackTrace"], list)


def test_an_unknown_function_is_resource_not_found(invoke_runtime: LocalRuntime) -> None:
    template = invoke_runtime.template

    with pytest.raises(ClientError) as raised:
        _invoke(invoke_runtime, "invoke-app-no-such-function", {})

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{template.region}:{template.account_id}:"
        "function:invoke-app-no-such-function"
    )


def test_an_event_invocation_is_refused_as_not_emulated(invoke_runtime: LocalRuntime) -> None:
    name = invoke_runtime.template.functions["NoteFunction"].name

    with pytest.raises(ClientError) as raised:
        _invoke(invoke_runtime, name, {"note": "never stored"}, InvocationType="Event")

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert "InvocationType Event is not emulated locally" in error["Error"]["Message"]


def test_a_handler_of_the_runtime_invokes_another_function_of_it_without_deadlock(
    invoke_runtime: LocalRuntime,
) -> None:
    # given: a handler run by the runtime itself (its process owns the emulation, and one
    # invocation at a time runs in a process)
    target = invoke_runtime.template.functions["NoteFunction"].arn + ":live"
    note = f"note-{uuid.uuid4().hex[:8]}"

    # when: it invokes another function of the runtime through the Lambda API and waits
    result = invoke_runtime.invoke("RelayFunction", {"target": target, "payload": {"note": note}})

    # then: the other function ran in the meantime and the first got its answer
    assert result.ok, result.error
    assert result.payload["function_error"] is None
    assert result.payload["payload"]["stored"] == note


def test_a_handler_of_the_runtime_gets_another_functions_error(
    invoke_runtime: LocalRuntime,
) -> None:
    target = invoke_runtime.template.functions["NoteFunction"].name

    result = invoke_runtime.invoke("RelayFunction", {"target": target, "payload": {"fail": "no"}})

    assert result.ok, result.error
    assert result.payload["function_error"] == "Unhandled"
    assert result.payload["payload"]["errorType"] == "ValueError"


# ------------------------------------------------------------------ CodeDeploy


def _verdicts(runtime: LocalRuntime) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{runtime.api_url}/_local/codedeploy", timeout=10) as answer:
        listed: list[dict[str, str]] = json.loads(answer.read())
        return listed


def test_a_hook_verdict_is_answered_and_listed_at_local_codedeploy(
    invoke_runtime: LocalRuntime,
) -> None:
    # given: a deployment hook's execution
    deployment_id = f"d-{uuid.uuid4().hex[:9].upper()}"
    hook_execution_id = uuid.uuid4().hex

    # when: the hook reports its verdict
    answer = _client(invoke_runtime, "codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=hook_execution_id,
        status="Failed",
    )

    # then: CodeDeploy's answer, and the verdict at /_local/codedeploy
    assert answer["lifecycleEventHookExecutionId"] == hook_execution_id
    assert {
        "deploymentId": deployment_id,
        "lifecycleEventHookExecutionId": hook_execution_id,
        "status": "Failed",
    } in _verdicts(invoke_runtime)


def test_a_verdict_codedeploy_does_not_know_is_refused(invoke_runtime: LocalRuntime) -> None:
    codedeploy = _client(invoke_runtime, "codedeploy")
    before = _verdicts(invoke_runtime)

    with pytest.raises(ClientError) as raised:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="d-LOCAL", lifecycleEventHookExecutionId="h-1", status="Passed"
        )

    assert raised.value.response["Error"]["Code"] == (
        "InvalidLifecycleEventHookExecutionStatusException"
    )
    assert _verdicts(invoke_runtime) == before


def test_other_codedeploy_operations_say_they_are_not_emulated(
    invoke_runtime: LocalRuntime,
) -> None:
    with pytest.raises(ClientError) as raised:
        _client(invoke_runtime, "codedeploy").get_deployment(deploymentId="d-LOCAL")

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "NotEmulated"
    assert error["Error"]["Message"] == (
        "CodeDeploy GetDeployment is not emulated locally: only "
        "PutLifecycleEventHookExecutionStatus is (docs/local-runtime.md)"
    )
