"""A one-time link's token rests nowhere but in its e-mail: not in any table, not in the
outbox item or the stream, not in the jobs queue or its dead-letter queue. The e-mail's link
works, and the e-mail says no name. (Sign-up and reset through the HTTP API of the local
runtime, on the real template.)"""

from __future__ import annotations

import json
from typing import Any

from support.http import call, token_in, unique_email
from support.pipeline import Pipeline

from warung_local.emulation import aws_client

PASSWORD = "kopi-tubruk-pagi-hari"
NAME = "Sri Zulaikha"


def everything_at_rest(pipeline: Pipeline) -> str:
    """Every item of every table, every stream record, every message of both job queues."""
    endpoint = pipeline.runtime.endpoint_url
    dynamodb = aws_client("dynamodb", endpoint)
    texts: list[str] = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            texts.extend(json.dumps(item) for item in page["Items"])
    streams = aws_client("dynamodbstreams", endpoint)
    for stream in streams.list_streams()["Streams"]:
        description = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]
        for shard in description["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=stream["StreamArn"],
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
            texts.extend(json.dumps(record, default=str) for record in records)
    for queue in (pipeline.jobs_queue_url, pipeline.dead_letter_queue_url):
        texts.extend(json.dumps(message) for message in _peek(pipeline, queue))
    return "\n".join(texts)


def _peek(pipeline: Pipeline, queue_url: str) -> list[dict[str, Any]]:
    # Received and at once visible again: what the queue holds, left in place.
    return list(
        pipeline.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
    )


def test_verification_and_reset_tokens_are_only_in_the_emails_and_the_links_work(
    pipeline: Pipeline,
) -> None:
    api = pipeline.runtime.api_url
    email = unique_email("secrecy")
    signed_up = call(
        api, "POST", "/v1/auth/register", {"email": email, "password": PASSWORD, "name": NAME}
    )
    assert signed_up.status == 202
    before_relay = everything_at_rest(pipeline)  # the outbox item, on its stream
    pipeline.relay()
    on_the_queue = everything_at_rest(pipeline)  # the job message on the queue
    pipeline.drain(rounds=50)  # past any backlog other modules left on the stream
    (verification,) = pipeline.mail(email)
    verify_token = token_in(verification)

    forgot = call(api, "POST", "/v1/auth/password/forgot", {"email": email})
    assert forgot.status == 202
    reset_before_relay = everything_at_rest(pipeline)
    pipeline.relay()
    reset_on_the_queue = everything_at_rest(pipeline)
    pipeline.drain(rounds=50)  # past any backlog other modules left on the stream
    (reset_mail,) = [
        m for m in pipeline.mail(email) if m["subject"] == "Reset your Warung password"
    ]
    reset_token = token_in(reset_mail)
    after_both = everything_at_rest(pipeline)

    assert email in before_relay  # the snapshots do see this sign-up's data
    for mail in (verification, reset_mail):  # sent to whoever typed the address: no name
        assert "Zulaikha" not in mail["text"]
        assert "Zulaikha" not in mail["html"]
    for snapshot in (
        before_relay,
        on_the_queue,
        reset_before_relay,
        reset_on_the_queue,
        after_both,
    ):
        assert verify_token not in snapshot
        assert reset_token not in snapshot
    verified = call(api, "POST", "/v1/auth/verify-email", {"token": verify_token})
    assert (verified.status, verified.body) == (200, {"email_verified": True})
    reset = call(
        api,
        "POST",
        "/v1/auth/password/reset",
        {"token": reset_token, "new_password": "teh-manis-sore-hari-2"},
    )
    assert reset.status == 204, reset.body
