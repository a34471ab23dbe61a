"""Create the template's tables, queues, buckets, secrets, parameters and mail identities
locally.

Provisioning is idempotent: what already exists is kept (a running `dev` and an
`invoke` may share one emulation), so it is safe to run again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import string
from typing import Any

from warung_local.emulation import aws_client
from warung_local.template import PhysicalResources, QueueSpec, Template

log = logging.getLogger("warung_local.provision")

# Parameters whose value is an address the application sends mail from.
SENDER_PARAMETERS = ("MailFrom", "SenderEmail")


def provision(template: Template, endpoint_url: str) -> PhysicalResources:
    """Create everything the template defines and return the physical values.

    Pass the result to `Template.with_physical` so that function environments
    resolve to the emulation's queue URLs, stream ARNs, secret ARNs and parameter names.
    """
    physical = PhysicalResources()
    _provision_tables(template, endpoint_url, physical)
    _provision_queues(template, endpoint_url, physical)
    _provision_buckets(template, endpoint_url)
    _provision_secrets(template, endpoint_url, physical)
    _provision_parameters(template, endpoint_url, physical)
    _verify_senders(template, endpoint_url)
    return physical


# ------------------------------------------------------------------ DynamoDB


def table_request(properties: dict[str, Any], name: str) -> dict[str, Any]:
    """The CreateTable request for a table's CloudFormation properties."""
    on_demand = properties.get("BillingMode", "PROVISIONED") == "PAY_PER_REQUEST"
    throughput = properties.get("ProvisionedThroughput") or {
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 5,
    }
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST" if on_demand else "PROVISIONED",
    }
    if not on_demand:
        request["ProvisionedThroughput"] = _int_values(throughput)
    gsis = []
    for index in properties.get("GlobalSecondaryIndexes") or []:
        gsi = {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
        if not on_demand:
            gsi["ProvisionedThroughput"] = _int_values(
                index.get("ProvisionedThroughput") or throughput
            )
        gsis.append(gsi)
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    lsis = [
        {k: i[k] for k in ("IndexName", "KeySchema", "Projection")}
        for i in properties.get("LocalSecondaryIndexes") or []
    ]
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return request


def _int_values(values: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in values.items()}


def _provision_tables(template: Template, endpoint_url: str, physical: PhysicalResources) -> None:
    dynamodb = aws_client("dynamodb", endpoint_url)
    for lid, table in template.tables.items():
        try:
            description = dynamodb.describe_table(TableName=table.name)["Table"]
        except dynamodb.exceptions.ResourceNotFoundException:
            description = dynamodb.create_table(**table_request(table.properties, table.name))[
                "TableDescription"
            ]
            log.info("created table %s", table.name)
        ttl = table.properties.get("TimeToLiveSpecification")
        if ttl and str(ttl.get("Enabled", "true")).lower() == "true":
            current = dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") != "ENABLED":
                dynamodb.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={
                        "Enabled": True,
                        "AttributeName": ttl["AttributeName"],
                    },
                )
        stream = table.properties.get("StreamSpecification")
        if stream and not description.get("LatestStreamArn"):
            # a table kept from before the template gave it a stream (local data)
            description = dynamodb.update_table(
                TableName=table.name,
                StreamSpecification={
                    "StreamEnabled": True,
                    "StreamViewType": stream["StreamViewType"],
                },
            )["TableDescription"]
            log.info("enabled the stream of table %s", table.name)
        if description.get("LatestStreamArn"):
            physical.stream_arns[lid] = description["LatestStreamArn"]


# ------------------------------------------------------------------ S3


def _provision_buckets(template: Template, endpoint_url: str) -> None:
    s3 = aws_client("s3", endpoint_url)
    for bucket in template.buckets.values():
        locked = _truthy_property(bucket.properties.get("ObjectLockEnabled"))
        request: dict[str, Any] = {"Bucket": bucket.name, "ObjectLockEnabledForBucket": locked}
        if template.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": template.region}
        try:
            s3.create_bucket(**request)
            log.info("created bucket %s", bucket.name)
        except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            continue
        versioning = (bucket.properties.get("VersioningConfiguration") or {}).get("Status")
        if versioning or locked:
            s3.put_bucket_versioning(
                Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"}
            )


def _truthy_property(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# ------------------------------------------------------------------ SQS


def queue_attributes(queue: QueueSpec) -> dict[str, str]:
    """The CreateQueue attributes for a queue (every SQS attribute is a string)."""
    props = queue.properties
    names = (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "MaximumMessageSize",
        "ReceiveMessageWaitTimeSeconds",
        "ContentBasedDeduplication",
        "FifoQueue",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "KmsMasterKeyId",
        "SqsManagedSseEnabled",
    )
    attributes = {name: _attr_str(props[name]) for name in names if name in props}
    if queue.redrive_policy:
        policy = dict(queue.redrive_policy)
        policy["maxReceiveCount"] = int(policy.get("maxReceiveCount", 10))
        attributes["RedrivePolicy"] = json.dumps(policy)
    return attributes


def _attr_str(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _provision_queues(template: Template, endpoint_url: str, physical: PhysicalResources) -> None:
    sqs = aws_client("sqs", endpoint_url)
    arn_to_id = {template.get_att(lid, "Arn"): lid for lid in template.queues}
    pending = dict(template.queues)
    # Dead-letter queues first, so that a RedrivePolicy names a queue that exists.
    while pending:
        ready = [
            q
            for q in pending.values()
            if not q.redrive_policy
            or arn_to_id.get(q.redrive_policy.get("deadLetterTargetArn")) not in pending
        ]
        if not ready:
            raise ValueError(f"queues with circular redrive policies: {', '.join(pending)}")
        for queue in ready:
            url = sqs.create_queue(QueueName=queue.name, Attributes=queue_attributes(queue))[
                "QueueUrl"
            ]
            physical.queue_urls[queue.logical_id] = url
            del pending[queue.logical_id]
            log.info("created queue %s", queue.name)


# ------------------------------------------------------------------ Secrets Manager


def generate_secret_string(spec: dict[str, Any], rng: secrets.SystemRandom | None = None) -> str:
    """A value for `GenerateSecretString`, honouring its length and character options."""
    rng = rng or secrets.SystemRandom()
    alphabet = ""
    if not _flag(spec, "ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not _flag(spec, "ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not _flag(spec, "ExcludeNumbers"):
        alphabet += string.digits
    if not _flag(spec, "ExcludePunctuation"):
        alphabet += "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    if _flag(spec, "IncludeSpace"):
        alphabet += " "
    excluded = str(spec.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    if not alphabet:
        raise ValueError("GenerateSecretString excludes every character")
    value = "".join(rng.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    template_text, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template_text and key:
        document = json.loads(str(template_text))
        document[str(key)] = value
        return json.dumps(document)
    return value


def _flag(spec: dict[str, Any], name: str) -> bool:
    return str(spec.get(name, False)).lower() == "true"


def _provision_secrets(template: Template, endpoint_url: str, physical: PhysicalResources) -> None:
    client = aws_client("secretsmanager", endpoint_url)
    for lid, secret in template.secrets.items():
        try:
            arn = client.describe_secret(SecretId=secret.name)["ARN"]
        except client.exceptions.ResourceNotFoundException:
            props = secret.properties
            if "SecretString" in props:
                value = str(props["SecretString"])
            else:
                value = generate_secret_string(props.get("GenerateSecretString") or {})
            request = {"Name": secret.name, "SecretString": value}
            if props.get("Description"):
                request["Description"] = str(props["Description"])
            arn = client.create_secret(**request)["ARN"]
            log.info("created secret %s", secret.name)
        physical.secret_arns[lid] = arn


# ------------------------------------------------------------------ SSM


def _provision_parameters(
    template: Template, endpoint_url: str, physical: PhysicalResources
) -> None:
    ssm = aws_client("ssm", endpoint_url)
    for lid, parameter in template.ssm_parameters.items():
        # An existing value is kept: it may have been changed since (a rotated JWK Set).
        try:
            ssm.get_parameter(Name=parameter.name)
        except ssm.exceptions.ParameterNotFound:
            if parameter.type not in ("String", "StringList"):
                raise ValueError(
                    f"{lid}: CloudFormation creates String and StringList parameters only"
                ) from None
            request = {"Name": parameter.name, "Type": parameter.type, "Value": parameter.value}
            if parameter.description:
                request["Description"] = parameter.description
            ssm.put_parameter(**request)
            log.info("created parameter %s", parameter.name)
        physical.parameter_names[lid] = parameter.name


# ------------------------------------------------------------------ SES


def _verify_senders(template: Template, endpoint_url: str) -> None:
    addresses = [template.parameters[p] for p in SENDER_PARAMETERS if template.parameters.get(p)]
    if not addresses:
        return
    ses, sesv2 = aws_client("ses", endpoint_url), aws_client("sesv2", endpoint_url)
    for address in addresses:
        verify_sender(address, ses, sesv2)


def verify_sender(address: str, ses: Any, sesv2: Any) -> None:
    """Verify a sender address in the emulation through SES v1 and v2, so that sending works."""
    ses.verify_email_identity(EmailAddress=address)
    with contextlib.suppress(sesv2.exceptions.AlreadyExistsException):
        sesv2.create_email_identity(EmailIdentity=address)
    log.info("verified sender %s", address)
