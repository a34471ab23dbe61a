"""The stand-in as a companion of `make dev` (`companions` of `[tool.warung_local]`):
started when the run's `PaymentProvider` is `midtrans`, it serves both of Midtrans's hosts
on `MIDTRANS_STANDIN_PORT` (default: a free port), gives its address to the template's
`MidtransBaseUrl`, signs with the stage's server key (the secret `MidtransServerKey` in the
emulation) and sends its notifications to the local API's `/v1/payments/webhook`."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from midtrans_standin.server import StandIn
from warung_local.emulation import aws_client


class StandInCompanion:
    """The stand-in, running beside the local API."""

    def __init__(self, api_url: str, port: int) -> None:
        self._lock = threading.Lock()
        self._secret: tuple[str, str] | None = None  # (arn, endpoint) once provisioned
        self._key = ""
        self.stand_in = StandIn(
            self._server_key,
            notification_url=api_url.rstrip("/") + "/v1/payments/webhook",
            port=port,
        ).start()
        self.parameters: Mapping[str, str] = {"MidtransBaseUrl": self.stand_in.url}
        self.line = f"Midtrans       {self.stand_in.url}  (stand-in: PaymentProvider=midtrans)"

    def provisioned(self, template: Any, endpoint_url: str) -> None:
        """Where the server key is."""
        self._secret = (template.secret_arn("MidtransServerKey"), endpoint_url)

    def _server_key(self) -> str:
        with self._lock:
            if not self._key:
                if self._secret is None:
                    raise RuntimeError("the stack is not provisioned yet")
                arn, endpoint = self._secret
                answer = aws_client("secretsmanager", endpoint).get_secret_value(SecretId=arn)
                self._key = str(answer["SecretString"])
            return self._key

    def stop(self) -> None:
        """Stop serving."""
        self.stand_in.stop()


def companion(parameters: Mapping[str, str], api_url: str) -> StandInCompanion | None:
    """The stand-in, if this run's provider is Midtrans."""
    if parameters.get("PaymentProvider") != "midtrans":
        return None
    return StandInCompanion(api_url, int(os.environ.get("MIDTRANS_STANDIN_PORT") or 0))
