"""Powertools' ``event_handler`` package without the resolvers no function here uses.

The package's ``__init__`` imports every resolver Powertools offers (AppSync and AppSync
Events, which import asyncio; Bedrock agents; VPC Lattice; function URLs; the HTTP
resolver), so importing any of its modules, the REST resolver included, costs ~20 ms of
cold start for code that never runs (docs/decisions/0023-first-request-imports.md).

``load_event_handler_lazily()`` puts the package in ``sys.modules`` without running its
``__init__``. Its modules import as usual (``aws_lambda_powertools.event_handler.api_gateway``),
and a name the package exports (``from aws_lambda_powertools.event_handler import
Response``, as Powertools' own modules write it) is imported from its module when it is
first asked for (PEP 562), so nothing that worked before breaks. Each API function's
package calls it first, before anything imports Powertools' event handler.

``load_data_classes_lazily()`` does the same for ``aws_lambda_powertools.utilities.data_classes``,
whose ``__init__`` imports the event class of every AWS service Powertools knows (CodePipeline,
Kafka, S3 batch operations, ...; ~17 ms) when a function reads one or two of them: the REST
resolver imports its API Gateway, ALB, function URL, Bedrock and VPC Lattice events by name
from the package, the queue consumers their SQS or stream record from its module. The event
handler loads it too; the consumers call it first
(docs/decisions/0033-build-on-first-use.md).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

PACKAGE = "aws_lambda_powertools.event_handler"

# What the package's __init__ exports, and the module of each name. A unit test holds this
# to the installed Powertools (tests/unit/layer/test_resolver_imports.py).
EXPORTS: dict[str, str] = {
    "ALBResolver": "api_gateway",
    "APIGatewayHttpResolver": "api_gateway",
    "ApiGatewayResolver": "api_gateway",
    "APIGatewayRestResolver": "api_gateway",
    "CORSConfig": "api_gateway",
    "Response": "api_gateway",
    "AppSyncResolver": "appsync",
    "BedrockAgentResolver": "bedrock_agent",
    "BedrockResponse": "bedrock_agent",
    "BedrockAgentFunctionResolver": "bedrock_agent_function",
    "BedrockFunctionResponse": "bedrock_agent_function",
    "DependencyResolutionError": "depends",
    "Depends": "depends",
    "AppSyncEventsResolver": "events_appsync.appsync_events",
    "HttpResolver": "http_resolver",
    "HttpResolverLocal": "http_resolver",
    "LambdaFunctionUrlResolver": "lambda_function_url",
    "Request": "request",
    "VPCLatticeResolver": "vpc_lattice",
    "VPCLatticeV2Resolver": "vpc_lattice",
}


DATA_CLASSES = "aws_lambda_powertools.utilities.data_classes"

# The same for the event data classes (held to the installed Powertools by the same test).
DATA_CLASS_EXPORTS: dict[str, str] = {
    "ALBEvent": "alb_event",
    "APIGatewayProxyEvent": "api_gateway_proxy_event",
    "APIGatewayProxyEventV2": "api_gateway_proxy_event",
    "APIGatewayWebSocketEvent": "api_gateway_websocket_event",
    "AppSyncResolverEvent": "appsync_resolver_event",
    "AppSyncResolverEventsEvent": "appsync_resolver_events_event",
    "AWSConfigRuleEvent": "aws_config_rule_event",
    "BedrockAgentEvent": "bedrock_agent_event",
    "BedrockAgentFunctionEvent": "bedrock_agent_function_event",
    "CloudWatchAlarmConfiguration": "cloud_watch_alarm_event",
    "CloudWatchAlarmData": "cloud_watch_alarm_event",
    "CloudWatchAlarmEvent": "cloud_watch_alarm_event",
    "CloudWatchAlarmMetric": "cloud_watch_alarm_event",
    "CloudWatchAlarmMetricStat": "cloud_watch_alarm_event",
    "CloudWatchAlarmState": "cloud_watch_alarm_event",
    "CloudWatchDashboardCustomWidgetEvent": "cloud_watch_custom_widget_event",
    "CloudWatchLogsEvent": "cloud_watch_logs_event",
    "CloudFormationCustomResourceEvent": "cloudformation_custom_resource_event",
    "CodeDeployLifecycleHookEvent": "code_deploy_lifecycle_hook_event",
    "CodePipelineJobEvent": "code_pipeline_job_event",
    "ConnectContactFlowEvent": "connect_contact_flow_event",
    "DynamoDBStreamEvent": "dynamo_db_stream_event",
    "EventBridgeEvent": "event_bridge_event",
    "event_source": "event_source",
    "KafkaEvent": "kafka_event",
    "KinesisFirehoseDataTransformationRecord": "kinesis_firehose_event",
    "KinesisFirehoseDataTransformationRecordMetadata": "kinesis_firehose_event",
    "KinesisFirehoseDataTransformationResponse": "kinesis_firehose_event",
    "KinesisFirehoseEvent": "kinesis_firehose_event",
    "KinesisStreamEvent": "kinesis_stream_event",
    "LambdaFunctionUrlEvent": "lambda_function_url_event",
    "S3BatchOperationEvent": "s3_batch_operation_event",
    "S3BatchOperationResponse": "s3_batch_operation_event",
    "S3BatchOperationResponseRecord": "s3_batch_operation_event",
    "S3Event": "s3_event",
    "S3EventBridgeNotificationEvent": "s3_event",
    "SecretsManagerEvent": "secrets_manager_event",
    "SESEvent": "ses_event",
    "SNSEvent": "sns_event",
    "SQSEvent": "sqs_event",
    "SQSRecord": "sqs_event",
    "TransferFamilyAuthorizer": "transfer_family_event",
    "TransferFamilyAuthorizerResponse": "transfer_family_event",
    "VPCLatticeEvent": "vpc_lattice",
    "VPCLatticeEventV2": "vpc_lattice",
}


def load_event_handler_lazily() -> None:
    """Register the event handler package with its exports imported on first use, and the
    event data classes package likewise (the REST resolver imports five of its classes).

    Does nothing to a package imported already (a test run, the local runtime): it is then
    the real one, and stays so.
    """
    load_data_classes_lazily()
    _register_lazily(PACKAGE, EXPORTS)


def load_data_classes_lazily() -> None:
    """Register Powertools' event data classes package with each class imported from its
    module on first use (see :func:`load_event_handler_lazily`)."""
    _register_lazily(DATA_CLASSES, DATA_CLASS_EXPORTS)


def _register_lazily(name: str, exports: dict[str, str]) -> None:
    """Put package ``name`` in ``sys.modules`` without running its ``__init__``; each of
    its ``exports`` is imported from its module when first asked for."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return  # not a package here: let the import fail where it is made, as before

    def export(attribute: str) -> Any:
        """A name of the package, imported from its module (then kept on the package)."""
        module = exports.get(attribute)
        if module is None:
            # Not an export: a submodule being imported (`from ... import openapi`) lands here.
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        value = getattr(importlib.import_module(f"{name}.{module}"), attribute)
        setattr(package, attribute, value)
        return value

    package = importlib.util.module_from_spec(spec)
    package.__all__ = list(exports)  # type: ignore[attr-defined]
    setattr(package, "__getattr__", export)  # noqa: B010 - PEP 562: a module's own __getattr__
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, package)  # as the import system does
