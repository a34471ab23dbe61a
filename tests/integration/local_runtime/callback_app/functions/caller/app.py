"""Posts each message to the API (CALLBACK_URL), waits for the answer, reports it.

The report goes to RESULTS_QUEUE_URL: the test runs in another process than this
handler. A message with "mail" also sends an e-mail through SES, from this process.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def _call(body: str) -> tuple[int | None, Any, float]:
    request = urllib.request.Request(
        os.environ["CALLBACK_URL"],
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    timeout_s = float(os.environ["CALL_TIMEOUT_S"])
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, answer = response.status, json.loads(response.read())
    except Exception as exc:  # reported, so that the test says what went wrong
        status, answer = None, repr(exc)
    return status, answer, time.monotonic() - started


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[Any]]:
    sqs = boto3.client("sqs")
    for record in event["Records"]:
        message = json.loads(record["body"])
        status, answer, elapsed_s = _call(record["body"])
        if message.get("mail"):
            boto3.client("sesv2").send_email(
                FromEmailAddress=os.environ["MAIL_FROM"],
                Destination={"ToAddresses": [message["mail"]]},
                Content={
                    "Simple": {
                        "Subject": {"Data": f"callback {message['n']}"},
                        "Body": {"Text": {"Data": "sent from the sources process"}},
                    }
                },
            )
        result = {
            "message": message,
            "status": status,
            "answer": answer,
            "elapsed_s": elapsed_s,
            "caller_pid": os.getpid(),
        }
        sqs.send_message(QueueUrl=os.environ["RESULTS_QUEUE_URL"], MessageBody=json.dumps(result))
    return {"batchItemFailures": []}
