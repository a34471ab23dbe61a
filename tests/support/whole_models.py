"""Clients with botocore's whole models, for what only tests do (Scan, BatchWriteItem).

The layer's clients know the operations the functions call and no other (docs/decisions/
0032-botocore-data-directory.md): a test that reads a table whole or fills it in bulk
makes its client here, pointed where the layer's clients are.
"""

from __future__ import annotations

from typing import Any

from warung.settings import get_settings
from warung_local.emulation import aws_client


def whole_dynamodb_client() -> Any:
    """A DynamoDB client of the emulation the layer's clients use (``AWS_ENDPOINT_URL``)."""
    settings = get_settings()
    assert settings.aws_endpoint_url, "the layer's clients are not pointed at an emulation"
    return aws_client("dynamodb", settings.aws_endpoint_url, settings.region)
