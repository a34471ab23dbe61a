"""Intrinsic resolution and Globals merging, on a small inline template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warung_local.template import (
    PhysicalResources,
    Template,
    TemplateError,
    load_template,
    merge_globals,
    parameter_values,
    parse_template_text,
)

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Origins: {Type: CommaDelimitedList, Default: "a,b"}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsLocal: !Equals [!Ref Stage, local]
  NotProd: !Not [!Condition IsProd]
  LocalOrProd: !Or [!Condition IsLocal, !Condition IsProd]
Mappings:
  Sizes:
    local: {memory: "256"}
    prod: {memory: "1024"}
Globals:
  Function:
    Timeout: 10
    MemorySize: 512
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        TABLE: !Ref Table
        LEVEL: !If [IsProd, INFO, DEBUG]
        OVERRIDDEN: from-globals
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/shared}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "app-${Stage}-main"
  UnnamedTable:
    Type: AWS::DynamoDB::Table
    Properties: {}
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub app-${Stage}-jobs
  Key:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: !Join ["/", [app, !Ref Stage, key]]}
  ProdOnly:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Widget:
    Type: Custom::Widget
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn
      Handler: app.handler
      MemorySize: !FindInMap [Sizes, !Ref Stage, memory]
      Layers: [arn:aws:lambda:ap-southeast-1:123456789012:layer:external:1]
      Environment:
        Variables:
          OVERRIDDEN: mine
          QUEUE: !Ref Jobs
          QUEUE_ARN: !GetAtt Jobs.Arn
          STREAM: !GetAtt Table.StreamArn
          SECRET: !Ref Key
          WIDGET: !Ref Widget
          SUBBED: !Sub "${AWS::Region}/${AWS::AccountId}/${AWS::StackName}"
          SUBBED_ATTR: !Sub "${Jobs.QueueName}/${!Literal}"
          FIRST: !Select [0, !Split [",", "x,y"]]
          ORIGINS: !Join [";", !Ref Origins]
          IN_PROD: !If [IsProd, "yes", !Ref AWS::NoValue]
          NOT_PROD: !If [NotProd, "yes", "no"]
          LOCAL_OR_PROD: !If [LocalOrProd, "yes", "no"]
          ENABLED: true
"""


def _template(stage: str = "local") -> Template:
    document = parse_template_text(TEMPLATE)
    values = parameter_values(document, {"Stage": stage})
    return Template(document, Path("/repo"), values, stack_name="warung-local")


def test_function_environment_merges_globals_and_function_wins() -> None:
    # given/when: the local stage
    env = _template().functions["Fn"].environment

    # then: Globals and the function's own variables are merged, the function's win
    assert env["STAGE"] == "local"
    assert env["OVERRIDDEN"] == "mine"
    assert env["LEVEL"] == "DEBUG"
    assert env["ENABLED"] == "true"


def test_refs_resolve_to_physical_names_and_pseudo_parameters() -> None:
    env = _template().functions["Fn"].environment

    assert env["TABLE"] == "app-local-main"
    assert env["QUEUE"] == "https://sqs.ap-southeast-1.amazonaws.com/123456789012/app-local-jobs"
    assert env["QUEUE_ARN"] == "arn:aws:sqs:ap-southeast-1:123456789012:app-local-jobs"
    assert (
        env["SECRET"] == "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:app/local/key"
    )
    assert env["SUBBED"] == "ap-southeast-1/123456789012/warung-local"
    assert env["SUBBED_ATTR"] == "app-local-jobs/${Literal}"
    assert env["WIDGET"] == "warung-local-Widget"


def test_string_functions_and_conditions_resolve() -> None:
    env = _template().functions["Fn"].environment

    assert env["FIRST"] == "x"
    assert env["ORIGINS"] == "a;b"
    assert "IN_PROD" not in env  # AWS::NoValue removes the key
    assert env["NOT_PROD"] == "yes"
    assert env["LOCAL_OR_PROD"] == "yes"


def test_prod_stage_flips_conditions_and_includes_conditional_resources() -> None:
    template = _template("prod")

    assert template.functions["Fn"].environment["IN_PROD"] == "yes"
    assert "ProdOnly" in template.queues
    assert "ProdOnly" not in _template().queues


def test_scalars_come_from_function_then_globals_and_layers_are_local_dirs() -> None:
    spec = _template().functions["Fn"]

    assert (spec.timeout, spec.memory, spec.handler) == (10, 256, "app.handler")
    assert spec.code_dir == Path("/repo/functions/fn")
    # The external layer ARN has no local content; the template's own layer does.
    assert spec.layers == [Path("/repo/layers/shared")]


def test_physical_values_replace_predictions_after_provisioning() -> None:
    physical = PhysicalResources(
        queue_urls={"Jobs": "http://127.0.0.1:4566/123456789012/app-local-jobs"},
        stream_arns={
            "Table": "arn:aws:dynamodb:ap-southeast-1:123456789012:table/app-local-main/stream/2026"
        },
    )
    env = _template().with_physical(physical).functions["Fn"].environment

    assert env["QUEUE"] == "http://127.0.0.1:4566/123456789012/app-local-jobs"
    assert env["STREAM"].endswith("/stream/2026")


def test_table_without_a_name_gets_the_stack_and_logical_id() -> None:
    assert _template().tables["UnnamedTable"].name == "warung-local-UnnamedTable"


def test_globals_merge_appends_lists_and_merges_mappings() -> None:
    merged = merge_globals(
        {"Layers": ["a"], "Environment": {"Variables": {"X": "1", "Y": "1"}}, "Timeout": 3},
        {"Layers": ["b"], "Environment": {"Variables": {"Y": "2"}}, "Timeout": {"Ref": "T"}},
    )

    assert merged == {
        "Layers": ["a", "b"],
        "Environment": {"Variables": {"X": "1", "Y": "2"}},
        "Timeout": {"Ref": "T"},
    }


def test_unknown_ref_is_a_clear_error() -> None:
    template = _template()

    with pytest.raises(TemplateError, match="Missing"):
        template.resolve({"Ref": "Missing"})


def test_parameter_without_default_needs_an_override() -> None:
    document = parse_template_text("Parameters:\n  Secret: {Type: String}\nResources: {}\n")

    with pytest.raises(TemplateError, match="Secret"):
        parameter_values(document, None)
    assert parameter_values(document, {"Secret": "x"}) == {"Secret": "x"}


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "local_runtime"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"


def test_event_source_filters_window_and_on_failure_destination() -> None:
    template = load_template(FIXTURE_TEMPLATE)

    (orders,) = [s for s in template.sqs_sources if s.function_id == "OrdersFunction"]
    assert orders.maximum_batching_window_s == 1
    assert [json.loads(f) for f in orders.filters] == [
        {"body": {"kind": ["order"], "total": [{"numeric": [">", 0]}]}},
        {"body": [{"prefix": "urgent:"}]},
    ]
    (ledger,) = [s for s in template.stream_sources if s.function_id == "LedgerFunction"]
    assert ledger.maximum_retry_attempts == 1
    assert ledger.bisect_batch_on_function_error
    assert ledger.on_failure_queue_id == "LedgerFailuresQueue"
    assert ledger.on_failure_destination == template.get_att("LedgerFailuresQueue", "Arn")
    (plain,) = [s for s in template.stream_sources if s.function_id == "StreamFunction"]
    assert plain.filters == ()
    assert plain.on_failure_destination is None


STREAM_EVENT = """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {{StreamSpecification: {{StreamViewType: NEW_IMAGE}}}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Handler: app.handler
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
            MaximumRetryAttempts: -1
{extra}
"""


def test_unlimited_retries_take_the_local_default() -> None:
    template = Template(parse_template_text(STREAM_EVENT.format(extra="")), Path("."), {})

    (source,) = template.stream_sources
    assert source.maximum_retry_attempts is None


def test_an_invalid_filter_pattern_fails_the_template() -> None:
    extra = '            FilterCriteria: {Filters: [{Pattern: \'{"eventName": "INSERT"}\'}]}'
    template = Template(parse_template_text(STREAM_EVENT.format(extra=extra)), Path("."), {})

    with pytest.raises(TemplateError, match=r"Fn\.Events\.Changes\.FilterCriteria"):
        _ = template.stream_sources
