"""`dev` keeps its data across restarts in one folder, sends no job twice, and `reset`
empties it.

Each test starts `python -m warung_local dev` as a person does, on a data folder of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.dev import Dev, running_dev, stop_dev
from support.http import call, unique_email, wait_for_mail

from warung_local.emulation import aws_client

REPO = Path(__file__).resolve().parents[3]
FIXTURE_TEMPLATE = REPO / "tests" / "fixtures" / "local_runtime" / "template.yaml"
FIXTURE_TABLE = "fixture-local-ledger"
PASSWORD = "kept-across-restarts"


def _emulation(dev: Dev) -> str:
    return f"http://127.0.0.1:{dev.emulator_port}"


def _items(endpoint: str, table: str) -> int:
    dynamodb = aws_client("dynamodb", endpoint)
    count, start = 0, None
    while True:
        page = dynamodb.scan(
            TableName=table, Select="COUNT", **({"ExclusiveStartKey": start} if start else {})
        )
        count += int(page["Count"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def _stream_records(endpoint: str, table: str) -> int:
    """Every record the table's stream holds, read from its start (as the outbox relay does)."""
    arn = aws_client("dynamodb", endpoint).describe_table(TableName=table)["Table"][
        "LatestStreamArn"
    ]
    streams = aws_client("dynamodbstreams", endpoint)
    total = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        total += len(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])
    return total


def _jobs_in_flight(endpoint: str) -> int:
    sqs = aws_client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName="warung-local-jobs")["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


# ------------------------------------------------------------------ the application


@dataclass(frozen=True)
class Restarted:
    """`dev` started again on the data of a first run in which an account was registered."""

    api: str
    endpoint: str
    email: str
    tokens: dict[str, Any]  # the pair of the sign-in before the restart
    audit_before: int  # audit entries when the first run stopped
    audit_after: int  # ... and when the second had started (before any request)
    stream_records_after: int  # main-table stream records once the second had started
    banner: str


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    data = tmp_path_factory.mktemp("data")
    logs = tmp_path_factory.mktemp("logs")
    email = unique_email("restart")
    with running_dev(logs / "first.log", data_dir=data) as first:
        api = f"http://127.0.0.1:{first.port}"
        body = {"email": email, "password": PASSWORD, "name": "Rika Restart"}
        assert call(api, "POST", "/v1/auth/register", body).status == 202
        signed_in = call(api, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
        assert signed_in.status == 200, signed_in.body
        # The verification e-mail went through the outbox, the stream, the relay and the worker.
        assert len(wait_for_mail(api, email)) == 1
        audit_before = _items(_emulation(first), "warung-local-audit")
        assert stop_dev(first) == 0
    with running_dev(logs / "second.log", data_dir=data) as second:
        endpoint = _emulation(second)
        yield Restarted(
            api=f"http://127.0.0.1:{second.port}",
            endpoint=endpoint,
            email=email,
            tokens=signed_in.body,
            audit_before=audit_before,
            audit_after=_items(endpoint, "warung-local-audit"),
            stream_records_after=_stream_records(endpoint, "warung-local-main"),
            banner=second.output,
        )
        assert stop_dev(second) == 0


def test_an_account_registered_before_a_restart_signs_in_after_it(restarted: Restarted) -> None:
    reply = call(
        restarted.api, "POST", "/v1/auth/login", {"email": restarted.email, "password": PASSWORD}
    )

    assert reply.status == 200, reply.body
    assert reply.body["token_type"] == "Bearer"


def test_an_access_token_issued_before_the_restart_still_works(restarted: Restarted) -> None:
    # The signing key (a secret) and the JWK Set (a parameter) were kept.
    reply = call(restarted.api, "GET", "/v1/me", token=restarted.tokens["access_token"])

    assert reply.status == 200, reply.body
    assert reply.body["email"] == restarted.email


def test_a_refresh_token_issued_before_the_restart_still_works(restarted: Restarted) -> None:
    reply = call(
        restarted.api,
        "POST",
        "/v1/auth/refresh",
        {"refresh_token": restarted.tokens["refresh_token"]},
    )

    assert reply.status == 200, reply.body
    me = call(restarted.api, "GET", "/v1/me", token=reply.body["access_token"])
    assert me.body["email"] == restarted.email


def test_a_restart_sends_no_job_a_second_time(restarted: Restarted) -> None:
    # given: the restored tables' streams start empty, so the relay has nothing to send again
    assert restarted.stream_records_after == 0

    # when: one new job after the restart (a second verification e-mail)
    reply = call(restarted.api, "POST", "/v1/auth/resend-verification", {"email": restarted.email})
    assert reply.status == 202
    mails = wait_for_mail(restarted.api, restarted.email)
    deadline = time.monotonic() + 20
    while _jobs_in_flight(restarted.endpoint) and time.monotonic() < deadline:
        time.sleep(0.2)

    # then: the jobs queue is empty and only that one e-mail was sent after the restart
    assert _jobs_in_flight(restarted.endpoint) == 0
    assert len(call(restarted.api, "GET", f"/_local/mail?to={restarted.email}").body) == 1
    assert "Confirm your e-mail address" in mails[0]["subject"]


def test_the_seeders_find_their_data_and_write_nothing(restarted: Restarted) -> None:
    # Every seeder's write is audited (accounts and merchants are made by the functions' code).
    assert restarted.audit_after == restarted.audit_before
    assert "(restored; `make reset` deletes it)" in restarted.banner
    assert "demo account customer@example.com" in restarted.banner
    assert "already present" in restarted.banner  # the signing key was kept, not made again
    assert "created table" not in restarted.banner  # the tables came back with their items


# ------------------------------------------------------------------ the folder itself


def _put_item(dev: Dev, key: str) -> None:
    aws_client("dynamodb", _emulation(dev)).put_item(
        TableName=FIXTURE_TABLE, Item={"pk": {"S": key}}
    )


def _reset(data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warung_local", "reset", "--data-dir", str(data)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("how", ["reset command", "dev --reset"])
def test_reset_gives_an_empty_store(tmp_path: Path, how: str) -> None:
    # given: data kept by a first run
    data = tmp_path / "data"
    with running_dev(tmp_path / "first.log", template=FIXTURE_TEMPLATE, data_dir=data) as first:
        _put_item(first, "kept")
        assert stop_dev(first) == 0
    assert (data / "emulation.pickle").is_file()

    # when: the data is reset
    args: list[str] = []
    if how == "reset command":
        result = _reset(data)
        assert (result.returncode, result.stdout) == (0, f"deleted the local data in {data}\n")
        assert not data.exists()
    else:
        args = ["--reset"]

    # then: the next run starts with the template's tables, empty
    with running_dev(
        tmp_path / "second.log", template=FIXTURE_TEMPLATE, data_dir=data, args=args
    ) as second:
        assert _items(_emulation(second), FIXTURE_TABLE) == 0
        assert "(new; `make reset` deletes it)" in second.output
        stop_dev(second)


def test_reset_without_data_says_so(tmp_path: Path) -> None:
    result = _reset(tmp_path / "never-used")

    assert result.returncode == 0
    assert result.stdout == f"no local data in {tmp_path / 'never-used'}: nothing to delete\n"


def test_a_killed_dev_keeps_what_was_written_a_moment_before(tmp_path: Path) -> None:
    data = tmp_path / "data"
    state = data / "emulation.pickle"
    with running_dev(tmp_path / "first.log", template=FIXTURE_TEMPLATE, data_dir=data) as first:
        _put_item(first, "written-just-before")
        # The write is saved within about a second, without a clean stop (the pickle holds
        # the key as UTF-8 text).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            state.exists() and b"written-just-before" in state.read_bytes()
        ):
            time.sleep(0.1)
        first.process.kill()
        first.process.wait()

    with running_dev(tmp_path / "second.log", template=FIXTURE_TEMPLATE, data_dir=data) as second:
        item = aws_client("dynamodb", _emulation(second)).get_item(
            TableName=FIXTURE_TABLE, Key={"pk": {"S": "written-just-before"}}
        )
        assert "Item" in item
        stop_dev(second)


def test_data_that_cannot_be_read_stops_dev_in_one_line_and_is_left_alone(tmp_path: Path) -> None:
    # given: a data folder whose state file is not one (a broken disk, another tool's file)
    data = tmp_path / "data"
    data.mkdir()
    (data / "emulation.pickle").write_bytes(b"not a pickle")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])}

    # when: dev starts on it
    command = ["dev", "--template", str(FIXTURE_TEMPLATE), "--port", "0", "--emulator-port", "0"]
    result = subprocess.run(
        [sys.executable, "-m", "warung_local", *command, "--data-dir", str(data)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # then: one line says what is wrong and what to do; the file is kept for the developer
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert f"cannot read the saved local data in {data / 'emulation.pickle'}" in errors[0]
    assert "`make reset`" in errors[0]
    assert "Traceback" not in result.stderr
    assert (data / "emulation.pickle").read_bytes() == b"not a pickle"
