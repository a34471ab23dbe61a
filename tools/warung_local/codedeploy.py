"""CodeDeploy's one call a deployment hook makes, answered and recorded by the emulation.

A pre-traffic hook reports its verdict on the new versions with
`PutLifecycleEventHookExecutionStatus`, which moto 5.2.5 does not have. Every emulation
answers it as CodeDeploy does (`{"lifecycleEventHookExecutionId": ...}`) and records
`(deploymentId, lifecycleEventHookExecutionId, status)`, oldest first, for
`GET /_local/codedeploy` (next to `/_local/mail`). No deployment exists locally, so any
ids are accepted; the status must be one CodeDeploy knows. The verdicts live as long as
the emulation (they are not kept in `.local/`).

Any other CodeDeploy operation is answered 400 `NotEmulated`: a local hook never needs
one, and moto's partial CodeDeploy would answer for deployments that do not exist here.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warung_local.emulation import LocalAnswer, WSGIEnviron

TARGET_PREFIX = "CodeDeploy_20141006."
PUT_HOOK_STATUS = "PutLifecycleEventHookExecutionStatus"
STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown")
_CONTENT_TYPE = ("Content-Type", "application/x-amz-json-1.1")


@dataclass(frozen=True)
class HookVerdict:
    """What one hook execution reported."""

    deployment_id: str
    hook_execution_id: str
    status: str

    def as_json(self) -> dict[str, str]:
        """The verdict in the API's own names, as `/_local/codedeploy` lists it."""
        return {
            "deploymentId": self.deployment_id,
            "lifecycleEventHookExecutionId": self.hook_execution_id,
            "status": self.status,
        }


class CodeDeployStub:
    """Answers CodeDeploy requests to the emulation (a `LocalService`)."""

    def __init__(self) -> None:
        self._verdicts: list[HookVerdict] = []
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnviron, body: bytes) -> LocalAnswer | None:
        """The answer to a CodeDeploy request; None for any other service's."""
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith(TARGET_PREFIX):
            return None
        operation = target.removeprefix(TARGET_PREFIX)
        if operation != PUT_HOOK_STATUS:
            return _error(
                "NotEmulated",
                f"CodeDeploy {operation} is not emulated locally: only {PUT_HOOK_STATUS} is "
                "(docs/local-runtime.md)",
            )
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error("SerializationException", "the request body is not JSON")
        deployment_id = request.get("deploymentId")
        hook_execution_id = request.get("lifecycleEventHookExecutionId")
        status = request.get("status")
        if not deployment_id:
            return _error("DeploymentIdRequiredException", "deploymentId is required")
        if not hook_execution_id:
            return _error(
                "InvalidLifecycleEventHookExecutionIdException",
                "lifecycleEventHookExecutionId is required",
            )
        if status not in STATUSES:
            return _error(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"status must be one of {', '.join(STATUSES)}, not {status!r}",
            )
        with self._lock:
            self._verdicts.append(HookVerdict(deployment_id, hook_execution_id, status))
        answer = json.dumps({"lifecycleEventHookExecutionId": hook_execution_id}).encode()
        return "200 OK", [_CONTENT_TYPE], answer

    def verdicts(self) -> list[dict[str, str]]:
        """Every verdict reported so far, oldest first."""
        with self._lock:
            return [verdict.as_json() for verdict in self._verdicts]


def _error(code: str, message: str) -> LocalAnswer:
    """A JSON-protocol client error, as botocore parses it (`__type`, `message`)."""
    return (
        "400 Bad Request",
        [_CONTENT_TYPE],
        json.dumps({"__type": code, "message": message}).encode(),
    )
