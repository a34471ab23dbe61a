"""Reference of the first-request section of `make bench`: the floor of the project's shape.

The least a function built the way every Warung function is built pays on a cold start,
before any of the project's own code: Powertools' logger, metrics and REST resolver with
request validation, one pydantic response model, and a botocore client (a plain session,
none of the layer's trimming) making one GetItem. warung_bench.first prints it next to the
bare handler (boto3 and a client, getitem.py), so that a family's ratio can be read against
what the packages alone cost.
"""

import os
from typing import Any

import botocore.session
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from pydantic import BaseModel

logger = Logger(service="floor")
metrics = Metrics(namespace="WarungBench", service="floor")
app = APIGatewayRestResolver(enable_validation=True)
_client = None


class Profile(BaseModel):
    found: bool
    sk: str | None = None


def _dynamodb() -> Any:
    global _client  # noqa: PLW0603 - one client per process, as the functions keep theirs
    if _client is None:
        _client = botocore.session.get_session().create_client("dynamodb")
    return _client


@app.get("/v1/floor/<user_id>")
def read_profile(user_id: str) -> Profile:
    item = (
        _dynamodb()
        .get_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": "PROFILE"}},
        )
        .get("Item")
    )
    return Profile(found=item is not None, sk=item["sk"]["S"] if item else None)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
