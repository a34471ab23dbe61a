"""Provisioning the real template.yaml into the emulation."""

from __future__ import annotations

from pathlib import Path

from warung_local.config import load_config
from warung_local.emulation import Emulation, aws_client
from warung_local.provision import provision
from warung_local.template import load_template

REPO = Path(__file__).resolve().parents[3]
LOCAL_PARAMETERS = load_config(REPO / "template.yaml").parameters()


def test_every_table_and_secret_of_the_template_exists_as_declared(emulation: Emulation) -> None:
    # given: the project's template at the local stage
    template = load_template(REPO / "template.yaml", LOCAL_PARAMETERS)

    # when: provisioning twice (a second `dev` or an `invoke` against a running one)
    provision(template, emulation.endpoint_url)
    physical = provision(template, emulation.endpoint_url)

    # then: each table has its key schema, indexes, stream and TTL
    dynamodb = aws_client("dynamodb", emulation.endpoint_url)
    for lid, table in template.tables.items():
        description = dynamodb.describe_table(TableName=table.name)["Table"]
        assert description["KeySchema"] == table.properties["KeySchema"]
        declared = {i["IndexName"] for i in table.properties.get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])} == declared
        if "StreamSpecification" in table.properties:
            assert description["StreamSpecification"]["StreamEnabled"] is True
            assert physical.stream_arns[lid] == description["LatestStreamArn"]
        if "TimeToLiveSpecification" in table.properties:
            ttl = dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
            assert ttl == {
                "TimeToLiveStatus": "ENABLED",
                "AttributeName": table.properties["TimeToLiveSpecification"]["AttributeName"],
            }

    # and: each secret exists with a generated value of the asked length and charset
    secrets = aws_client("secretsmanager", emulation.endpoint_url)
    for lid, secret in template.secrets.items():
        value = secrets.get_secret_value(SecretId=physical.secret_arns[lid])["SecretString"]
        spec = secret.properties.get("GenerateSecretString", {})
        if "PasswordLength" in spec:
            assert len(value) == spec["PasswordLength"]
        if spec.get("ExcludePunctuation"):
            assert value.isalnum()


def test_function_environments_resolve_to_provisioned_resources(emulation: Emulation) -> None:
    template = load_template(REPO / "template.yaml", LOCAL_PARAMETERS)

    resolved = template.with_physical(provision(template, emulation.endpoint_url))

    secrets = aws_client("secretsmanager", emulation.endpoint_url)
    for spec in resolved.functions.values():
        if "CURSOR_SECRET_ARN" in spec.environment:
            assert secrets.describe_secret(SecretId=spec.environment["CURSOR_SECRET_ARN"])["Name"]
        assert spec.environment.get("STAGE", "local") == "local"
