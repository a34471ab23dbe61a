"""The API side: records every webhook it receives and answers with it and its process id."""

import json
import os

received = []  # the bodies of the webhooks, in order


def handler(event, context):
    body = json.loads(event["body"] or "null")
    received.append(body)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"received": body, "receiver_pid": os.getpid()}),
    }
