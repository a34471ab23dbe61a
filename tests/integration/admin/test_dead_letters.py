"""The admin's dead letters on the real template, through HTTP on the local runtime: the list
(newest first, masked targets, the queue's depth), the redrive with SQS's move task (as the
emulation runs it), its progress, the 409 while it runs, its audit entry, and who may call."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.http import Reply, call
from support.pipeline import Pipeline
from warung_demo.seeders import demo_accounts, demo_merchants, signing_key

from warung import clients
from warung.dynamo import dynamodb_client, from_item, to_item
from warung.ids import new_id
from warung.settings import get_settings
from warung.store.jobs import JOB_FAILURES_PARTITION
from warung_local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[3]
DEAD_LETTERS = "/v1/admin/dead-letters"
REDRIVE = "/v1/admin/dead-letters/redrive"
PASSWORD = "warung-demo-password"


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(
        ROOT / "template.yaml", port=0, emulator_port=0, seed=False, start_sources=False
    ) as running:
        signing_key(running.template, running.endpoint_url)
        demo_accounts(running.template, running.endpoint_url)
        demo_merchants(running.template, running.endpoint_url)  # the owner owns merchants
        yield running


def login(runtime: LocalRuntime, email: str) -> str:
    reply = call(runtime.api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return str(reply.body["access_token"])


@pytest.fixture(scope="module")
def admin_token(runtime: LocalRuntime) -> str:
    return login(runtime, "admin@example.com")


@pytest.fixture
def pipeline(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The worker driven one poll at a time, with an empty dead-letter queue and list (the
    emulation is shared with other modules, whose failed jobs would show here)."""
    for name, value in runtime.template.functions["AdminFunction"].environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", runtime.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", runtime.template.region)
    get_settings.cache_clear()
    clients.aws_client.cache_clear()
    pipe = Pipeline(runtime)
    pipe.drain(rounds=20)  # other modules' jobs run out (done or dead) before this test's
    pipe.clear_dead_letters()
    forget_every_failure()
    yield pipe
    pipe.close()
    get_settings.cache_clear()
    clients.aws_client.cache_clear()


def forget_every_failure() -> None:
    table = get_settings().table_name
    found = dynamodb_client().query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues=to_item({":pk": JOB_FAILURES_PARTITION}),
    )["Items"]
    for item in found:
        dynamodb_client().delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


class Receiver:
    """A merchant's webhook endpoint on loopback, answering ``status`` (changeable)."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[bytes] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/warung"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(500)
    yield running
    running.close()


def webhook_job(pipeline: Pipeline, receiver: Receiver, request_id: str) -> str:
    """A webhook job of a merchant whose receiver is ``receiver``, queued; its id."""
    merchant_id, job_id = new_id(), new_id()
    dynamodb_client().put_item(
        TableName=get_settings().table_name,
        Item=to_item(
            {"pk": f"MERCHANT#{merchant_id}", "sk": "WEBHOOK", "url": receiver.url, "secret": "s"}
        ),
    )
    pipeline.send_job(
        {
            "job_id": job_id,
            "job_type": "webhook.deliver",
            "payload": {
                "merchant_id": merchant_id,
                "event": "order.paid",
                "event_id": new_id("evt_"),
                "data": {"order_id": "o-1"},
            },
            "correlation_id": request_id,
            "created_at": "2026-12-05T08:00:00Z",
        }
    )
    return job_id


def fail_until_dead(pipeline: Pipeline, clock: ModuleType) -> None:
    """Five tries a minute apart (backoff fast-forwarded), then the dead-letter queue."""
    for _ in range(6):
        pipeline.work()
        clock.advance(60)


def listed(runtime: LocalRuntime, token: str, query: str = "") -> Reply:
    return call(runtime.api_url, "GET", DEAD_LETTERS + query, token=token)


def test_dead_lettered_jobs_are_listed_newest_first_without_their_payloads(
    runtime: LocalRuntime,
    admin_token: str,
    pipeline: Pipeline,
    receiver: Receiver,
    clock: ModuleType,
) -> None:
    hook_job = webhook_job(pipeline, receiver, "req-dl-hook")
    fail_until_dead(pipeline, clock)
    reset_link = f"https://app.example.com/reset?token={new_id()}"
    mail_job = new_id()
    pipeline.send_job(  # no `expires_in_minutes`: a payload that can never be sent
        {
            "job_id": mail_job,
            "job_type": "email.password_reset",
            "payload": {"to": "usman@example.com", "name": "Usman", "reset_url": reset_link},
            "correlation_id": "req-dl-mail",
            "created_at": "2026-12-05T08:10:00Z",
        }
    )
    # The worker polls until both jobs have reached the dead-letter queue (a loaded machine
    # may leave the webhook's last retry for the next poll), a few polls at most.
    for _ in range(5):
        pipeline.work()
        clock.advance(60)
        page = listed(runtime, admin_token)
        if page.status != 200 or page.body["depth"] >= 2:
            break

    assert page.status == 200, page.body
    assert page.body["depth"] == 2
    assert [item["job_id"] for item in page.body["items"]] == [mail_job, hook_job]
    mail, hook = page.body["items"]
    assert mail["type"] == "email.password_reset"
    assert mail["target"] == "us***@example.com"
    assert mail["attempts"] == 1
    assert mail["first_failed_at"] == mail["last_failed_at"]
    assert "invalid payload" in mail["last_error"]
    assert mail["correlation_id"] == "req-dl-mail"
    assert hook["type"] == "webhook.deliver"
    assert hook["target"] == "127.0.0.1"  # the host only: never the path, never the secret
    assert hook["attempts"] == 5
    assert hook["first_failed_at"] < hook["last_failed_at"]
    assert "500" in hook["last_error"]
    text = json.dumps(page.body)
    assert "usman@" not in text
    assert reset_link not in text
    assert "/hooks/warung" not in text

    first = listed(runtime, admin_token, "?limit=1")
    assert [i["job_id"] for i in first.body["items"]] == [mail_job]
    second = listed(runtime, admin_token, f"?limit=5&cursor={first.body['next_cursor']}")
    assert [i["job_id"] for i in second.body["items"]] == [hook_job]
    assert second.body["next_cursor"] is None
    forged = listed(runtime, admin_token, "?cursor=not-a-cursor")
    assert (forged.status, forged.body["code"]) == (400, "validation_error"), forged.body


def test_a_redrive_moves_the_dead_letters_back_and_their_success_empties_the_list(
    runtime: LocalRuntime,
    admin_token: str,
    pipeline: Pipeline,
    receiver: Receiver,
    clock: ModuleType,
) -> None:
    jobs = {webhook_job(pipeline, receiver, f"req-dl-{n}") for n in range(2)}
    fail_until_dead(pipeline, clock)
    assert listed(runtime, admin_token).body["depth"] == 2
    assert len(receiver.requests) == 10
    receiver.status = 200  # the merchant fixed their server
    emulation = runtime.emulation
    assert emulation is not None

    with emulation.move_tasks.held():  # the task runs until released
        started = call(runtime.api_url, "POST", REDRIVE, token=admin_token)
        again = call(runtime.api_url, "POST", REDRIVE, token=admin_token)
        task_id = started.body["task_id"]
        running = call(runtime.api_url, "GET", f"{REDRIVE}/{task_id}", token=admin_token)

    assert started.status == 202, started.body
    assert started.body["messages"] == 2
    assert re.fullmatch(r"[A-Za-z0-9_-]+", task_id)  # safe in a URL path as it is
    assert (again.status, again.body["code"]) == (409, "redrive_running"), again.body
    assert running.status == 200, running.body
    assert running.body == {
        "task_id": task_id,
        "status": "RUNNING",
        "moved": 0,
        "total": 2,
        "failure_reason": None,
    }
    assert emulation.move_tasks.wait_idle()
    done = call(runtime.api_url, "GET", f"{REDRIVE}/{task_id}", token=admin_token)
    assert (done.body["status"], done.body["moved"], done.body["total"]) == ("COMPLETED", 2, 2)
    assert listed(runtime, admin_token).body["depth"] == 0

    pipeline.work()

    assert len(receiver.requests) == 12  # each job delivered once more, and only once
    after = listed(runtime, admin_token)
    assert (after.body["items"], after.body["depth"]) == ([], 0)
    assert not jobs & {item["job_id"] for item in after.body["items"]}

    me = call(runtime.api_url, "GET", "/v1/me", token=admin_token).body
    entries = [
        from_item(item)
        for item in dynamodb_client().query(
            TableName=get_settings().audit_table_name,
            IndexName="by_actor",
            KeyConditionExpression="actor_pk = :actor",
            ExpressionAttributeValues=to_item({":actor": f"ACTOR#{me['id']}"}),
        )["Items"]
    ]
    redrives = [e for e in entries if e["resource"] == f"dead-letters:{task_id}"]
    assert [(e["action"], e["changes"]) for e in redrives] == [
        ("admin.dead_letters.redrive", {"messages": 2})
    ]


def test_a_redriven_job_that_had_in_fact_succeeded_runs_nothing_twice(
    runtime: LocalRuntime, admin_token: str, pipeline: Pipeline, receiver: Receiver
) -> None:
    receiver.status = 200
    webhook_job(pipeline, receiver, "req-dl-done")
    body = pipeline.sqs.receive_message(QueueUrl=pipeline.jobs_queue_url, VisibilityTimeout=0)[
        "Messages"
    ][0]["Body"]
    pipeline.work()
    assert len(receiver.requests) == 1
    # The same job in the dead-letter queue, as if its success had not been recorded by SQS.
    pipeline.sqs.send_message(QueueUrl=pipeline.dead_letter_queue_url, MessageBody=body)

    started = call(runtime.api_url, "POST", REDRIVE, token=admin_token)
    assert started.status == 202, started.body
    assert runtime.emulation is not None
    assert runtime.emulation.move_tasks.wait_idle()
    pipeline.work()

    assert len(receiver.requests) == 1
    assert listed(runtime, admin_token).body == {"items": [], "next_cursor": None, "depth": 0}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", DEAD_LETTERS), ("POST", REDRIVE), ("GET", f"{REDRIVE}/abc")]
)
def test_only_an_admin_may_see_or_redrive_dead_letters(
    runtime: LocalRuntime, method: str, path: str
) -> None:
    customer = login(runtime, "customer@example.com")
    owner = login(runtime, "owner@example.com")
    assert call(runtime.api_url, "GET", "/v1/me", token=owner).body["memberships"]

    anonymous = call(runtime.api_url, method, path)
    as_customer = call(runtime.api_url, method, path, token=customer)
    as_owner = call(runtime.api_url, method, path, token=owner)

    assert (anonymous.status, anonymous.body["code"]) == (401, "unauthorized")
    assert (as_customer.status, as_customer.body["code"]) == (403, "forbidden")
    assert (as_owner.status, as_owner.body["code"]) == (403, "forbidden")
