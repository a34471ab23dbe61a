"""The payments context's opener (``PaymentOpenerFunction``) answering Lambda Invoke in the
suite's emulation, as ``dev`` serves it: what checkout invokes in integration tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from warung_local.functions import LocalFunction
from warung_local.lambda_api import LambdaInvoke


@dataclass
class ServedOpener:
    """The opener's ARN (its ``live`` alias, as the orders function is given it) and the
    invocations it answered."""

    arn: str
    invocations: list[str] = field(default_factory=list)


class _Counting:
    def __init__(self, invoke: LambdaInvoke, served: ServedOpener) -> None:
        self.invoke, self.served = invoke, served

    def __call__(self, environ: Any, body: bytes) -> Any:
        answer = self.invoke(environ, body)
        if answer is not None:
            self.served.invocations.append(str(environ.get("PATH_INFO")))
        return answer


@contextmanager
def payment_opener_served(
    app_stack: Any, stack: Any, environment: Mapping[str, str]
) -> Iterator[ServedOpener]:
    """``stack``'s opener, with its template environment and ``environment`` over it (the
    provider's settings), answered by the emulation until the block ends."""
    spec = stack.functions["PaymentOpenerFunction"]
    function = LocalFunction(spec, app_stack.endpoint_url, stack.region)
    # what the settings call a stage (the stage's names are the test's), as ``run_as`` does
    function.environment.update({"STAGE": "local", **environment})
    served = ServedOpener(arn=f"{spec.arn}:live")
    service = _Counting(
        LambdaInvoke({"PaymentOpenerFunction": function}, stack.region, stack.account_id), served
    )
    app_stack.emulation.add_service(service)
    try:
        yield served
    finally:
        app_stack.emulation.middleware.services.remove(service)
