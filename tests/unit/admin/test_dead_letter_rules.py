"""What the dead-letter list shows of a job (never its payload), and how a redrive's task
id is made from SQS's task handle and found again among the queue's move tasks."""

from __future__ import annotations

import base64
import json
import re

import pytest

from admin.rules import dead_letters as rules
from warung.jobs import masked_target


@pytest.mark.parametrize(
    ("job_type", "payload", "url", "shown"),
    [
        ("email.password_reset", {"to": "usman@example.com"}, None, "us***@example.com"),
        ("email.verification", {"to": "a@example.com"}, None, "a***@example.com"),
        ("email.order_paid", {"to": "not-an-address"}, None, "***"),
        (
            "webhook.deliver",
            {"merchant_id": "m1"},
            "https://hooks.example.com/warung/in?token=s3cret",
            "hooks.example.com",
        ),
        ("webhook.deliver", {"merchant_id": "m1"}, None, None),  # no webhook any more
        ("payment.refund", {"payment_id": "p1"}, None, None),
        ("email.unknown_kind", {"to": "usman@example.com"}, None, None),
    ],
)
def test_a_target_is_masked_or_a_host_only(
    job_type: str, payload: dict[str, str], url: str | None, shown: str | None
) -> None:
    assert masked_target(job_type, payload, url) == shown


def test_a_task_id_is_the_handle_made_safe_for_a_url_path() -> None:
    handle = base64.b64encode(json.dumps({"taskId": "a/b+c", "sourceArn": "arn"}).encode())
    handle_text = handle.decode() + "?"  # as unsafe as a handle can be

    task_id = rules.task_id_of(handle_text)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", task_id)
    assert rules.handle_of(task_id) == handle_text


def test_a_task_id_that_is_not_base64_names_no_handle() -> None:
    assert rules.handle_of("é") is None
    assert rules.handle_of("a") is None


TASKS = [  # newest first, as SQS lists them
    {"Status": "RUNNING", "TaskHandle": "h3", "ApproximateNumberOfMessagesMoved": 1},
    {"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 4},
    {"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 2},
]


def test_the_running_task_is_found_by_its_handle() -> None:
    assert rules.task_named(TASKS, "h3") is TASKS[0]
    assert rules.running(TASKS) is TASKS[0]
    assert rules.running(TASKS[1:]) is None


def test_a_handle_no_running_task_has_is_the_newest_finished_task() -> None:
    # SQS drops the handle of a finished task; the routes start one task at a time.
    assert rules.task_named(TASKS, "h2") is TASKS[1]
    assert rules.task_named([], "h2") is None
