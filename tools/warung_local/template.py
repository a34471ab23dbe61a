"""Read a SAM/CloudFormation template and resolve it to local values.

`template.yaml` is the single source of truth: the local runtime derives its tables,
queues, secrets, functions, routes and event sources from it, so that what runs on a
laptop cannot drift from what is deployed.

Resolution happens in two steps. `load_template` resolves every intrinsic with
*predicted* physical values (AWS-shaped queue URLs, a placeholder stream ARN); after
provisioning, `Template.with_physical` re-resolves with the values the emulation
actually returned (queue URLs on the emulation's host, the real stream ARN).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from warung_local.config import DEFAULT_STACK_NAME, load_config
from warung_local.filters import FilterError, filter_texts

LOCAL_REGION = "ap-southeast-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
LOCAL_API_ID = "1234567890"  # the id `sam local start-api` uses too
DEFAULT_API_PORT = 3000  # `make dev`'s port


_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "Sub": "Fn::Sub",
    "GetAtt": "Fn::GetAtt",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "GetAZs": "Fn::GetAZs",
    "Base64": "Fn::Base64",
    "ImportValue": "Fn::ImportValue",
    "Cidr": "Fn::Cidr",
    "ToJsonString": "Fn::ToJsonString",
    "Length": "Fn::Length",
    # Functions of a template's `Rules` section.
    "Contains": "Fn::Contains",
    "EachMemberEquals": "Fn::EachMemberEquals",
    "EachMemberIn": "Fn::EachMemberIn",
    "RefAll": "Fn::RefAll",
    "ValueOf": "Fn::ValueOf",
    "ValueOfAll": "Fn::ValueOfAll",
}
# Names SAM generates from a template's properties (AutoPublishAlias, DeploymentPreference).
_SAM_GENERATED = ("ServerlessDeploymentApplication",)


class TemplateError(ValueError):
    """The template cannot be read or resolved."""


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short-form tags."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = _SHORT_TAGS.get(tag_suffix)
    if key is None:
        raise TemplateError(f"unknown tag !{tag_suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if key == "Fn::GetAtt" and isinstance(value, str):
            # `!GetAtt A.B` is the scalar spelling of `Fn::GetAtt: [A, B]`.
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def parse_template_text(text: str) -> dict[str, Any]:
    """Parse CloudFormation YAML (or JSON) text into plain Python data."""
    doc = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(doc, dict):
        raise TemplateError("a template must be a mapping")
    return doc


# ------------------------------------------------------------------ specs


@dataclass(frozen=True)
class ApiRoute:
    """One `Api` event: an HTTP method and resource path routed to a function."""

    method: str  # upper-case, or "ANY"
    path: str  # API Gateway resource path, e.g. /v1/items/{id} or /docs/{proxy+}
    function_id: str
    event_name: str = ""


@dataclass(frozen=True)
class SqsSource:
    """An `SQS` event of a function."""

    function_id: str
    event_name: str
    queue_id: str
    batch_size: int = 10
    report_batch_item_failures: bool = False
    maximum_batching_window_s: int = 0
    enabled: bool = True
    filters: tuple[str, ...] = ()  # FilterCriteria patterns (JSON text), validated


@dataclass(frozen=True)
class StreamSource:
    """A `DynamoDB` stream event of a function."""

    function_id: str
    event_name: str
    table_id: str
    starting_position: str = "LATEST"
    batch_size: int = 100
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int | None = None  # None: unset or -1 (AWS: until expiry)
    enabled: bool = True
    filters: tuple[str, ...] = ()  # FilterCriteria patterns (JSON text), validated
    bisect_batch_on_function_error: bool = False
    on_failure_destination: str | None = None  # DestinationConfig.OnFailure ARN
    on_failure_queue_id: str | None = None  # its queue's logical id, if in the template


@dataclass(frozen=True)
class ScheduleSource:
    """A `Schedule` or `ScheduleV2` event: an expression and the event it sends."""

    function_id: str
    event_name: str
    expression: str  # rate(...) or cron(...)
    input: Any = None  # parsed `Input` JSON, or None for the scheduled-event shape
    enabled: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the local runtime needs it, with Globals merged and values resolved."""

    logical_id: str
    name: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    layers: list[Path]
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    arn: str

    @property
    def package_dir(self) -> Path | None:
        """The source folder that is the handler's package (CodeUri functions/catalog for
        catalog.app.handler: the build copies it into a folder of that name), or None when
        the handler's modules lie directly in CodeUri."""
        package = self.handler.split(".", 1)[0]
        if self.code_dir.name == package and (self.code_dir / "__init__.py").is_file():
            return self.code_dir
        return None

    @property
    def import_root(self) -> Path:
        """The folder to put on ``sys.path`` for the handler to import (tools, not the
        runtime: it also reaches the other functions' packages beside this one)."""
        return self.code_dir.parent if self.package_dir else self.code_dir


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table with its resolved properties."""

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue with its resolved properties."""

    logical_id: str
    name: str
    fifo: bool
    visibility_timeout: int | None
    message_retention_period: int | None
    redrive_policy: dict[str, Any] | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket with its resolved properties."""

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class SecretSpec:
    """A Secrets Manager secret with its resolved properties."""

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class SsmParameterSpec:
    """An SSM parameter (String or StringList) with its resolved name and value."""

    logical_id: str
    name: str
    type: str
    value: str
    description: str | None = None


@dataclass(frozen=True)
class ApiSpec:
    """The REST API: its stage, CORS, binary media types and gateway responses."""

    logical_id: str
    stage: str
    cors: dict[str, str] | None
    binary_media_types: list[str]
    gateway_responses: dict[str, Any]


@dataclass
class PhysicalResources:
    """Physical values the emulation assigned, used in place of predictions."""

    queue_urls: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)
    secret_arns: dict[str, str] = field(default_factory=dict)
    parameter_names: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------ template


_NO_VALUE = object()  # AWS::NoValue: removes the enclosing key or list item
_SUB_PATTERN = re.compile(r"\$\{([^}]*)\}")


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in {"Ref", "Condition"} or str(key).startswith("Fn::")


def merge_globals(global_value: Any, own_value: Any) -> Any:
    """Merge a SAM Globals value into a resource's own, as SAM does.

    Mappings merge key by key, lists are concatenated (globals first), scalars and
    intrinsics: the resource's own value wins.
    """
    if _is_intrinsic(global_value) or _is_intrinsic(own_value):
        return own_value
    if isinstance(global_value, dict) and isinstance(own_value, dict):
        merged = dict(global_value)
        for key, value in own_value.items():
            merged[key] = merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(own_value, list):
        return [*global_value, *own_value]
    return own_value


class Template:
    """A loaded template: raw document, parameter values and intrinsic resolution."""

    def __init__(
        self,
        document: dict[str, Any],
        base_dir: Path,
        parameter_values: Mapping[str, str],
        physical: PhysicalResources | None = None,
        path: Path | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
    ) -> None:
        self.document = document
        self.base_dir = base_dir
        self.path = path
        self.parameters: dict[str, str] = dict(parameter_values)
        self.physical = physical or PhysicalResources()
        self.region = LOCAL_REGION
        self.account_id = LOCAL_ACCOUNT_ID
        self.stack_name = stack_name
        self._condition_cache: dict[str, bool] = {}

    # -------------------------------------------------------------- raw access

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Raw resources whose Condition (if any) is true."""
        raw: dict[str, dict[str, Any]] = self.document.get("Resources") or {}
        return {
            lid: res
            for lid, res in raw.items()
            if "Condition" not in res or self.condition(str(res["Condition"]))
        }

    def resources_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Raw resources of one of the given types, in template order."""
        return {lid: r for lid, r in self.resources.items() if r.get("Type") in types}

    def resource_type(self, logical_id: str) -> str | None:
        """The Type of a resource, or None if the template has no such resource."""
        res = (self.document.get("Resources") or {}).get(logical_id)
        return None if res is None else str(res.get("Type"))

    def with_physical(self, physical: PhysicalResources) -> Template:
        """A copy of this template that resolves with the given physical values."""
        return Template(
            self.document, self.base_dir, self.parameters, physical, self.path, self.stack_name
        )

    # -------------------------------------------------------------- conditions

    def condition(self, name: str) -> bool:
        """Evaluate a named condition of the template."""
        if name not in self._condition_cache:
            conditions = self.document.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._condition_cache[name] = bool(self.resolve(conditions[name]))
        return self._condition_cache[name]

    # -------------------------------------------------------------- resolution

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function inside `value` to a local value."""
        result = self._resolve(value)
        return None if result is _NO_VALUE else result

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref":
                return self.ref(str(self._resolve(arg)))
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key, arg)
        resolved = {k: self._resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _function(self, key: str, arg: Any) -> Any:  # noqa: C901 - one branch per function property SAM merges
        if key == "Fn::If":
            cond, when_true, when_false = arg
            return self._resolve(when_true if self.condition(str(cond)) else when_false)
        if key == "Fn::Equals":
            left, right = (self._resolve(a) for a in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not bool(self._resolve(arg[0]))
        if key == "Fn::And":
            return all(bool(self._resolve(a)) for a in arg)
        if key == "Fn::Or":
            return any(bool(self._resolve(a)) for a in arg)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else [self._resolve(a) for a in arg]
            return self.get_att(str(parts[0]), str(parts[1]))
        if key == "Fn::Join":
            delimiter, items = arg
            return str(delimiter).join(str(i) for i in self._resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self._resolve(items)[int(self._resolve(index))]
        if key == "Fn::Split":
            delimiter, text = arg
            return str(self._resolve(text)).split(str(delimiter))
        if key == "Fn::FindInMap":
            name, top, second = (self._resolve(a) for a in arg[:3])
            return self._resolve(self.document["Mappings"][name][top][second])
        if key == "Fn::GetAZs":
            return [f"{self.region}{suffix}" for suffix in "abc"]
        if key == "Fn::Base64":
            return base64.b64encode(str(self._resolve(arg)).encode()).decode()
        if key == "Fn::ToJsonString":
            return json.dumps(self._resolve(arg), separators=(",", ":"))
        if key == "Fn::Length":
            return len(self._resolve(arg))
        if key == "Fn::ImportValue":
            # Cross-stack exports do not exist locally; keep a recognisable placeholder.
            return f"local-import-{self._resolve(arg)}"
        raise TemplateError(f"unsupported intrinsic {key}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = str(arg[0]), {k: self._resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is an escaped literal
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                if (self.resource_type(logical_id), attribute) == ("AWS::Serverless::Api", "Stage"):
                    return self._sam_property(logical_id, attribute)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return _SUB_PATTERN.sub(replace, text)

    # -------------------------------------------------------------- Ref and GetAtt

    def ref(self, name: str) -> Any:  # noqa: C901 - one branch per kind of Ref target
        """The value of `!Ref name`: a parameter, a pseudo parameter or a resource."""
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:"
                f"stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if "." in name and name not in self.parameters:
            return self._sam_property(*name.split(".", 1))
        if name in _SAM_GENERATED and self.resource_type(name) is None:
            return f"{self.stack_name}-{name}"
        if name in self.parameters:
            declared = (self.document.get("Parameters") or {}).get(name) or {}
            kind = str(declared.get("Type", "String"))
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                return [item.strip() for item in self.parameters[name].split(",")]
            return self.parameters[name]
        rtype = self.resource_type(name)
        if rtype is None:
            raise TemplateError(f"!Ref to unknown name {name}")
        if rtype == "AWS::DynamoDB::Table":
            return self.physical_name(name, "TableName")
        if rtype == "AWS::SQS::Queue":
            return self.queue_url(name)
        if rtype == "AWS::SecretsManager::Secret":
            return self.secret_arn(name)
        if rtype == "AWS::S3::Bucket":
            return self.physical_name(name, "BucketName")
        if rtype in {"AWS::Serverless::Function", "AWS::Lambda::Function"}:
            return self.physical_name(name, "FunctionName")
        if rtype == "AWS::Serverless::LayerVersion":
            layer = self.physical_name(name, "LayerName")
            return f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{layer}:1"
        if rtype in {"AWS::Serverless::Api", "AWS::ApiGateway::RestApi"}:
            return LOCAL_API_ID
        if rtype == "AWS::Logs::LogGroup":
            return self.physical_name(name, "LogGroupName")
        if rtype == "AWS::SNS::Topic":
            topic = self.physical_name(name, "TopicName")
            return f"arn:aws:sns:{self.region}:{self.account_id}:{topic}"
        if rtype == "AWS::SSM::Parameter":
            return self.parameter_name(name)
        # Unknown types are not provisioned, but a Ref to them still yields a stable string.
        return f"{self.stack_name}-{name}"

    def _sam_property(self, logical_id: str, prop: str) -> str:
        """SAM's referable properties: ``Function.Version`` / ``Function.Alias`` (locally the
        function itself, which has one version) and ``Api.Stage``."""
        rtype = self.resource_type(logical_id)
        if rtype == "AWS::Serverless::Function" and prop in {"Version", "Alias"}:
            name = self.physical_name(logical_id, "FunctionName")
            return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        if rtype == "AWS::Serverless::Api" and prop == "Stage":
            props = self.document["Resources"][logical_id].get("Properties") or {}
            return str(self.resolve(props.get("StageName", "Prod")))
        raise TemplateError(f"!Ref to unknown name {logical_id}.{prop}")

    def get_att(self, logical_id: str, attribute: str) -> Any:  # noqa: C901 - one branch per resource attribute
        """The value of `!GetAtt logical_id.attribute`."""
        rtype = self.resource_type(logical_id)
        if rtype is None:
            raise TemplateError(f"!GetAtt of unknown resource {logical_id}")
        region, account = self.region, self.account_id
        if rtype == "AWS::DynamoDB::Table":
            table = self.physical_name(logical_id, "TableName")
            if attribute == "Arn":
                return f"arn:aws:dynamodb:{region}:{account}:table/{table}"
            if attribute == "StreamArn":
                return self.physical.stream_arns.get(
                    logical_id, f"arn:aws:dynamodb:{region}:{account}:table/{table}/stream/local"
                )
        if rtype == "AWS::SQS::Queue":
            name = self.queue_name(logical_id)
            if attribute == "Arn":
                return f"arn:aws:sqs:{region}:{account}:{name}"
            if attribute == "QueueName":
                return name
            if attribute == "QueueUrl":
                return self.queue_url(logical_id)
        if rtype in {"AWS::Serverless::Function", "AWS::Lambda::Function"} and attribute == "Arn":
            name = self.physical_name(logical_id, "FunctionName")
            return f"arn:aws:lambda:{region}:{account}:function:{name}"
        if rtype == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{self.physical_name(logical_id, 'BucketName')}"
        if rtype == "AWS::Logs::LogGroup" and attribute == "Arn":
            name = self.physical_name(logical_id, "LogGroupName")
            return f"arn:aws:logs:{region}:{account}:log-group:{name}:*"
        if attribute == "Arn" or attribute.endswith("Arn"):
            service = rtype.split("::")[1].lower() if "::" in rtype else "local"
            return f"arn:aws:{service}:{region}:{account}:{self.stack_name}-{logical_id}"
        return f"{self.stack_name}-{logical_id}-{attribute}"

    def physical_name(self, logical_id: str, name_property: str) -> str:
        """The resource's explicit name property, or CloudFormation-like `<stack>-<LogicalId>`."""
        props = (self.document["Resources"][logical_id].get("Properties")) or {}
        if name_property in props:
            value = self.resolve(props[name_property])
            if value is not None:
                return str(value)
        return f"{self.stack_name}-{logical_id}"

    def queue_name(self, logical_id: str) -> str:
        """A queue's name (generated names of FIFO queues end in `.fifo`, as in AWS)."""
        props = self.document["Resources"][logical_id].get("Properties") or {}
        name = self.physical_name(logical_id, "QueueName")
        if "QueueName" not in props and _truthy(self.resolve(props.get("FifoQueue"))):
            name += ".fifo"
        return name

    def queue_url(self, logical_id: str) -> str:
        """The queue's URL: the emulation's after provisioning, AWS-shaped before."""
        if logical_id in self.physical.queue_urls:
            return self.physical.queue_urls[logical_id]
        name = self.queue_name(logical_id)
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{name}"

    def secret_arn(self, logical_id: str) -> str:
        """The secret's ARN: the emulation's after provisioning, predicted before."""
        if logical_id in self.physical.secret_arns:
            return self.physical.secret_arns[logical_id]
        name = self.physical_name(logical_id, "Name")
        return f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{name}"

    def parameter_name(self, logical_id: str) -> str:
        """An SSM parameter's name (its Ref): the provisioned one, else the predicted one."""
        if logical_id in self.physical.parameter_names:
            return self.physical.parameter_names[logical_id]
        return self.physical_name(logical_id, "Name")

    # -------------------------------------------------------------- typed views

    def _function_properties(self, logical_id: str) -> dict[str, Any]:
        raw = self.document["Resources"][logical_id].get("Properties") or {}
        globals_ = (self.document.get("Globals") or {}).get("Function") or {}
        merged: dict[str, Any] = merge_globals(globals_, raw)
        return merged

    def _layer_dirs(self, layers: list[Any]) -> list[Path]:
        dirs: list[Path] = []
        for layer in layers:
            # Only layers of this template have local content; ARNs of others are skipped.
            if isinstance(layer, dict) and "Ref" in layer:
                lid = str(layer["Ref"])
                if self.resource_type(lid) == "AWS::Serverless::LayerVersion":
                    props = self.document["Resources"][lid].get("Properties") or {}
                    content = self.resolve(props.get("ContentUri"))
                    if isinstance(content, str):
                        dirs.append((self.base_dir / content).resolve())
        return dirs

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        """Every `AWS::Serverless::Function` with Globals merged, by logical id."""
        specs: dict[str, FunctionSpec] = {}
        for lid in self.resources_of_type("AWS::Serverless::Function"):
            props = self._function_properties(lid)
            code_uri = self.resolve(props.get("CodeUri"))
            if not isinstance(code_uri, str):
                continue  # S3 code or inline code cannot run from the working tree
            variables = self.resolve((props.get("Environment") or {}).get("Variables") or {})
            name = self.physical_name(lid, "FunctionName")
            specs[lid] = FunctionSpec(
                logical_id=lid,
                name=name,
                code_dir=(self.base_dir / code_uri).resolve(),
                handler=str(self.resolve(props.get("Handler"))),
                runtime=str(self.resolve(props.get("Runtime", "python3.13"))),
                timeout=int(self.resolve(props.get("Timeout", 3))),
                memory=int(self.resolve(props.get("MemorySize", 128))),
                layers=self._layer_dirs(list(props.get("Layers") or [])),
                environment={k: _env_str(v) for k, v in variables.items()},
                events=dict(props.get("Events") or {}),
                arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
            )
        return specs

    @cached_property
    def api(self) -> ApiSpec:
        """The REST API (the first `AWS::Serverless::Api`, merged with Globals.Api)."""
        apis = self.resources_of_type("AWS::Serverless::Api")
        globals_api = (self.document.get("Globals") or {}).get("Api") or {}
        lid, raw = next(iter(apis.items()), ("ServerlessRestApi", {}))
        props = self.resolve(merge_globals(globals_api, raw.get("Properties") or {}))
        cors = props.get("Cors")
        if isinstance(cors, str):
            cors = {"AllowOrigin": cors}
        return ApiSpec(
            logical_id=lid,
            stage=str(props.get("StageName", self.parameters.get("Stage", "Prod"))),
            cors={k: str(v) for k, v in cors.items()} if isinstance(cors, dict) else None,
            # SAM spells "/" as "~1" in binary media types.
            binary_media_types=[
                str(t).replace("~1", "/") for t in props.get("BinaryMediaTypes", [])
            ],
            gateway_responses=dict(props.get("GatewayResponses") or {}),
        )

    def _events_of(self, *types: str) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        for lid, spec in self.functions.items():
            for event_name, event in spec.events.items():
                if event.get("Type") in types:
                    found.append((lid, event_name, event.get("Properties") or {}))
        return found

    @cached_property
    def routes(self) -> list[ApiRoute]:
        """Every `Api` event of every function."""
        routes = []
        for lid, event_name, props in self._events_of("Api"):
            method = str(self.resolve(props["Method"])).upper()
            routes.append(ApiRoute(method, str(self.resolve(props["Path"])), lid, event_name))
        return routes

    def _source_id(self, raw: Any, types: set[str], attribute: str) -> str:
        # The event names its source by `!GetAtt X.Arn`; map it back to the logical id.
        if isinstance(raw, dict) and "Fn::GetAtt" in raw:
            target = raw["Fn::GetAtt"]
            parts = target.split(".", 1) if isinstance(target, str) else target
            return str(parts[0])
        resolved = self.resolve(raw)
        for lid, res in self.resources.items():
            if res.get("Type") in types and self.get_att(lid, attribute) == resolved:
                return lid
        raise TemplateError(f"event source {resolved} is not defined in the template")

    def _filters_of(self, lid: str, event_name: str, resolved: dict[str, Any]) -> tuple[str, ...]:
        try:
            return filter_texts(
                resolved.get("FilterCriteria"), f"{lid}.Events.{event_name}.FilterCriteria"
            )
        except FilterError as exc:
            raise TemplateError(str(exc)) from exc

    def queue_for_arn(self, arn: str) -> str | None:
        """The logical id of the template's queue with this ARN, if any."""
        for lid in self.resources_of_type("AWS::SQS::Queue"):
            if self.get_att(lid, "Arn") == arn:
                return lid
        return None

    @cached_property
    def sqs_sources(self) -> list[SqsSource]:
        """Every `SQS` event of every function."""
        sources = []
        for lid, event_name, props in self._events_of("SQS"):
            resolved = self.resolve({k: v for k, v in props.items() if k != "Queue"})
            sources.append(
                SqsSource(
                    function_id=lid,
                    event_name=event_name,
                    queue_id=self._source_id(props["Queue"], {"AWS::SQS::Queue"}, "Arn"),
                    batch_size=int(resolved.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (resolved.get("FunctionResponseTypes") or []),
                    maximum_batching_window_s=int(
                        resolved.get("MaximumBatchingWindowInSeconds", 0)
                    ),
                    enabled=_truthy(resolved.get("Enabled", True)),
                    filters=self._filters_of(lid, event_name, resolved),
                )
            )
        return sources

    @cached_property
    def stream_sources(self) -> list[StreamSource]:
        """Every `DynamoDB` stream event of every function."""
        sources = []
        for lid, event_name, props in self._events_of("DynamoDB"):
            resolved = self.resolve({k: v for k, v in props.items() if k != "Stream"})
            retries = resolved.get("MaximumRetryAttempts")
            if retries is not None and int(retries) < 0:
                retries = None  # -1 is AWS's "retry until the records expire"
            on_failure = ((resolved.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            sources.append(
                StreamSource(
                    function_id=lid,
                    event_name=event_name,
                    table_id=self._source_id(
                        props["Stream"], {"AWS::DynamoDB::Table"}, "StreamArn"
                    ),
                    starting_position=str(resolved.get("StartingPosition", "LATEST")),
                    batch_size=int(resolved.get("BatchSize", 100)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (resolved.get("FunctionResponseTypes") or []),
                    maximum_retry_attempts=None if retries is None else int(retries),
                    enabled=_truthy(resolved.get("Enabled", True)),
                    filters=self._filters_of(lid, event_name, resolved),
                    bisect_batch_on_function_error=_truthy(
                        resolved.get("BisectBatchOnFunctionError", False)
                    ),
                    on_failure_destination=None if on_failure is None else str(on_failure),
                    on_failure_queue_id=None
                    if on_failure is None
                    else self.queue_for_arn(str(on_failure)),
                )
            )
        return sources

    @cached_property
    def schedules(self) -> list[ScheduleSource]:
        """Every `Schedule` and `ScheduleV2` event of every function."""
        sources = []
        for lid, event_name, props in self._events_of("Schedule", "ScheduleV2"):
            resolved = self.resolve(props)
            expression = resolved.get("Schedule") or resolved.get("ScheduleExpression")
            raw_input = resolved.get("Input")
            enabled = (
                _truthy(resolved.get("Enabled", True))
                and str(resolved.get("State", "ENABLED")).upper() != "DISABLED"
            )
            sources.append(
                ScheduleSource(
                    function_id=lid,
                    event_name=event_name,
                    expression=str(expression),
                    input=json.loads(raw_input) if isinstance(raw_input, str) else raw_input,
                    enabled=enabled,
                )
            )
        return sources

    @cached_property
    def tables(self) -> dict[str, TableSpec]:
        """Every DynamoDB table, by logical id."""
        return {
            lid: TableSpec(
                lid, self.physical_name(lid, "TableName"), self.resolve(res.get("Properties") or {})
            )
            for lid, res in self.resources_of_type("AWS::DynamoDB::Table").items()
        }

    @cached_property
    def queues(self) -> dict[str, QueueSpec]:
        """Every SQS queue, by logical id."""
        specs = {}
        for lid, res in self.resources_of_type("AWS::SQS::Queue").items():
            props = self.resolve(res.get("Properties") or {})
            redrive = props.get("RedrivePolicy")
            if isinstance(redrive, str):
                redrive = json.loads(redrive)
            specs[lid] = QueueSpec(
                logical_id=lid,
                name=self.queue_name(lid),
                fifo=_truthy(props.get("FifoQueue", False)),
                visibility_timeout=_opt_int(props.get("VisibilityTimeout")),
                message_retention_period=_opt_int(props.get("MessageRetentionPeriod")),
                redrive_policy=redrive,
                properties=props,
            )
        return specs

    @cached_property
    def buckets(self) -> dict[str, BucketSpec]:
        """Every S3 bucket, by logical id."""
        return {
            lid: BucketSpec(
                lid,
                self.physical_name(lid, "BucketName"),
                self.resolve(res.get("Properties") or {}),
            )
            for lid, res in self.resources_of_type("AWS::S3::Bucket").items()
        }

    @cached_property
    def secrets(self) -> dict[str, SecretSpec]:
        """Every Secrets Manager secret, by logical id."""
        return {
            lid: SecretSpec(
                lid, self.physical_name(lid, "Name"), self.resolve(res.get("Properties") or {})
            )
            for lid, res in self.resources_of_type("AWS::SecretsManager::Secret").items()
        }

    @cached_property
    def ssm_parameters(self) -> dict[str, SsmParameterSpec]:
        """Every SSM parameter, by logical id (not `parameters`: those are the template's)."""
        specs = {}
        for lid, res in self.resources_of_type("AWS::SSM::Parameter").items():
            props = self.resolve(res.get("Properties") or {})
            value = props.get("Value", "")
            specs[lid] = SsmParameterSpec(
                logical_id=lid,
                name=self.parameter_name(lid),
                type=str(props.get("Type", "String")),
                # A StringList's value is one comma-separated string, as SSM stores it.
                value=",".join(map(str, value)) if isinstance(value, list) else str(value),
                description=None if props.get("Description") is None else str(props["Description"]),
            )
        return specs


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _env_str(value: Any) -> str:
    # Lambda environment values are strings; CloudFormation turns booleans into "true"/"false".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def parameter_values(
    document: Mapping[str, Any], overrides: Mapping[str, str] | None
) -> dict[str, str]:
    """Each parameter's Default, replaced by an override when one is given."""
    values: dict[str, str] = {}
    for name, spec in (document.get("Parameters") or {}).items():
        if "Default" in spec:
            default = spec["Default"]
            values[name] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
    for name, value in (overrides or {}).items():
        values[name] = str(value)
    missing = [n for n in (document.get("Parameters") or {}) if n not in values]
    if missing:
        raise TemplateError(f"parameters without a Default need an override: {', '.join(missing)}")
    return values


def load_template(
    path: str | Path = "template.yaml",
    parameter_overrides: dict[str, str] | None = None,
    stack_name: str | None = None,
) -> Template:
    """Load a SAM template and prepare it for local resolution.

    Parameters take their Default, then `parameter_overrides`. Relative CodeUri and
    ContentUri paths are taken relative to the template's directory. The stack's name
    (in the generated names of unnamed resources) is `stack_name`, else the one the
    project's `[tool.warung_local]` settings give (`warung_local.config`).
    """
    template_path = Path(path).resolve()
    try:
        document = parse_template_text(template_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read {template_path}: {exc}") from exc
    values = parameter_values(document, parameter_overrides)
    if stack_name is None:
        stack_name = load_config(template_path).stack_name
    return Template(
        document, template_path.parent, values, path=template_path, stack_name=stack_name
    )
