"""The cache in front of prod, as CloudFormation deploys it (the SAM transform's output,
offline; docs/decisions/0024-cache-in-front.md): CloudFront keeps only what the API marks
public, never drops a query parameter from the key, never hands a signed-in answer to
anyone else, keeps errors 10 s at most, and the stage refuses what did not come through it."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROD_BEHIND_CLOUDFRONT = {
    "Stage": "prod",
    "DeploymentType": "Canary10Percent5Minutes",
    "EnableWaf": "true",
    "EnableCdn": "true",
    "CdnWebAclArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/warung-edge/0a1b2c",
}
# The error codes CloudFront caches (and lets a distribution set an error-caching TTL for).
CACHED_ERROR_CODES = {400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}


def translate(tmp_path: Path, parameters: Mapping[str, str]) -> dict[str, Any]:
    """template.yaml through the SAM transform (the policy venv's translator)."""
    subprocess.run(
        ["make", "--no-print-directory", "-s", ".venv-policy/.installed"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    output = tmp_path / "translated.json"
    arguments = [
        arg for name, value in parameters.items() for arg in ("--parameter", f"{name}={value}")
    ]
    subprocess.run(
        [
            str(ROOT / ".venv-policy" / "bin" / "python"),
            str(ROOT / "tools" / "translate_template.py"),
            str(ROOT / "template.yaml"),
            str(output),
            *arguments,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return document


class Deployed:
    """The translated template with its conditions decided for one set of parameters."""

    def __init__(self, document: dict[str, Any], parameters: Mapping[str, str]) -> None:
        declared = document.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(parameters)
        self.document = document

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.document["Conditions"][name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, list):
            return [self._evaluate(e) for e in expression]
        if not isinstance(expression, dict):
            return expression
        ((key, arg),) = expression.items()
        if key == "Ref":
            return self.parameters[arg]
        if key == "Condition":
            return self.condition(arg)
        values = self._evaluate(arg)
        if key == "Fn::And":
            return all(values)
        if key == "Fn::Or":
            return any(values)
        if key == "Fn::Not":
            return not values[0]
        if key == "Fn::Equals":
            return values[0] == values[1]
        raise AssertionError(f"{key} is not a condition function")

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of ``kind`` that this deploy creates."""
        return {
            name: resource
            for name, resource in self.document["Resources"].items()
            if resource["Type"] == kind
            and ("Condition" not in resource or self.condition(resource["Condition"]))
        }

    def one(self, kind: str) -> dict[str, Any]:
        (resource,) = self.resources(kind).values()
        properties: dict[str, Any] = resource["Properties"]
        return properties

    def chosen(self, value: Any) -> Any:
        """``value`` with its ``Fn::If`` decided."""
        if isinstance(value, dict) and set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return self.chosen(when_true if self.condition(name) else when_false)
        return value


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    document = translate(tmp_path_factory.mktemp("cdn"), PROD_BEHIND_CLOUDFRONT)
    return Deployed(document, PROD_BEHIND_CLOUDFRONT)


def behaviours(distribution: Mapping[str, Any]) -> list[dict[str, Any]]:
    config = distribution["DistributionConfig"]
    return [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]


def cache_policy_of(prod: Deployed, behaviour: Mapping[str, Any]) -> dict[str, Any]:
    reference = behaviour["CachePolicyId"]
    assert isinstance(reference, dict), "a managed policy's key is not this template's to check"
    resource = prod.document["Resources"][reference["Ref"]]
    assert resource["Type"] == "AWS::CloudFront::CachePolicy"
    config: dict[str, Any] = resource["Properties"]["CachePolicyConfig"]
    return config


def test_no_query_parameter_is_ever_dropped_from_the_cache_key(prod: Deployed) -> None:
    distribution = prod.one("AWS::CloudFront::Distribution")
    for behaviour in behaviours(distribution):
        assert "ForwardedValues" not in behaviour  # the legacy settings could drop some
        key = cache_policy_of(prod, behaviour)["ParametersInCacheKeyAndForwardedToOrigin"]
        # "all": a filter, sort, limit or cursor added to a route tomorrow is in the key too
        assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


def test_signed_in_requests_are_keyed_on_their_token_and_no_store_answers_are_never_kept(
    prod: Deployed,
) -> None:
    for behaviour in behaviours(prod.one("AWS::CloudFront::Distribution")):
        policy = cache_policy_of(prod, behaviour)
        headers = policy["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]
        assert headers["HeaderBehavior"] == "whitelist"
        # Authorization in the key: a token's answer is never served to another token or to
        # an anonymous caller; Origin: the CORS headers of an answer depend on it.
        assert {"Authorization", "Origin"} <= set(headers["Headers"])
        # MinTTL 0: CloudFront honours no-store/private (signed-in answers, every error the
        # API writes); DefaultTTL 0: an answer that does not say max-age is not kept.
        assert (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0)
        # The longest any answer may ask for (docs/product.md: public lists up to 60 s).
        assert policy["MaxTTL"] <= 60
        assert set(behaviour["CachedMethods"]) == {"GET", "HEAD"}


def test_errors_are_kept_at_most_10_seconds_and_failures_not_at_all(prod: Deployed) -> None:
    config = prod.one("AWS::CloudFront::Distribution")["DistributionConfig"]
    ttl = {
        error["ErrorCode"]: error["ErrorCachingMinTTL"] for error in config["CustomErrorResponses"]
    }
    # Every code CloudFront caches is set (unset ones would get its default of 10 s, and an
    # origin max-age could stretch them): no error answer lives longer than 10 s...
    assert set(ttl) == CACHED_ERROR_CODES
    assert all(0 <= seconds <= 10 for seconds in ttl.values()), ttl
    # ...and a failure of the API is asked again at once rather than repeated to everyone.
    assert all(ttl[code] == 0 for code in CACHED_ERROR_CODES if code >= 500)
    # No custom error page replaces the API's problem+json.
    assert not any("ResponsePagePath" in error for error in config["CustomErrorResponses"])


def test_the_client_address_reaches_the_api_with_the_secret_that_vouches_for_it(
    prod: Deployed,
) -> None:
    config = prod.one("AWS::CloudFront::Distribution")["DistributionConfig"]
    ((origin),) = config["Origins"]
    secret = "{{resolve:secretsmanager:${OriginSecret}:SecretString}}"
    assert origin["OriginCustomHeaders"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": {"Fn::Sub": secret}}
    ]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    forwarded = prod.one("AWS::CloudFront::OriginRequestPolicy")["OriginRequestPolicyConfig"]
    headers = forwarded["HeadersConfig"]
    assert headers["HeaderBehavior"] == "whitelist"  # never Host: API Gateway would refuse
    assert "CloudFront-Viewer-Address" in headers["Headers"]
    assert "Host" not in headers["Headers"]
    # Every request header the API reads reaches it.
    assert {
        "Content-Type",
        "Idempotency-Key",
        "If-Match",
        "If-None-Match",
        "Warung-Signature",
    } <= set(headers["Headers"])


def test_the_stage_refuses_requests_that_did_not_come_through_cloudfront(prod: Deployed) -> None:
    acls = prod.resources("AWS::WAFv2::WebACL")
    # The regional per-address rules would see edge addresses: only the guard stays here.
    assert set(acls) == {"OriginGuardAcl"}
    guard = acls["OriginGuardAcl"]["Properties"]
    assert guard["Scope"] == "REGIONAL"
    assert "Block" in guard["DefaultAction"]
    ((rule),) = guard["Rules"]
    assert rule["Action"] == {"Allow": {}}
    match = rule["Statement"]["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"SingleHeader": {"Name": "x-origin-verify"}}
    assert match["PositionalConstraint"] == "EXACTLY"
    assert match["SearchString"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${OriginSecret}:SecretString}}"
    }
    ((association),) = prod.resources("AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["OriginGuardAcl", "Arn"]}
    # WAF's rules move to the edge, where the client's own address is seen.
    web_acl = prod.chosen(
        prod.one("AWS::CloudFront::Distribution")["DistributionConfig"]["WebACLId"]
    )
    assert web_acl == {"Ref": "CdnWebAclArn"}


def test_the_api_functions_may_read_the_origin_secret_and_nothing_else_of_it(
    prod: Deployed,
) -> None:
    functions = prod.resources("AWS::Lambda::Function")
    readers = set()
    for name, function in functions.items():
        role = prod.document["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        for policy in role["Properties"].get("Policies", []):
            for written in policy["PolicyDocument"]["Statement"]:
                statement = prod.chosen(written)
                if isinstance(statement, dict) and statement.get("Sid") == "OriginSecret":
                    assert statement["Action"] == "secretsmanager:GetSecretValue"
                    assert statement["Resource"] == {"Ref": "OriginSecret"}
                    readers.add(name)
    # The functions whose routes read the caller's address (rate limits, audit entries).
    assert readers == {
        "AuthFunction",
        "CatalogFunction",
        "OrdersFunction",
        "PaymentsFunction",
        "AdminFunction",
    }


def test_prod_runs_behind_cloudfront_and_dev_does_not(tmp_path: Path) -> None:
    shipped = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    prod_overrides = shipped["prod"]["deploy"]["parameters"]["parameter_overrides"]
    dev_overrides = shipped["dev"]["deploy"]["parameters"]["parameter_overrides"]
    assert "EnableCdn=true" in prod_overrides.split()
    assert "EnableCdn" not in dev_overrides
    dev = Deployed(translate(tmp_path, {"Stage": "dev"}), {"Stage": "dev"})
    assert dev.resources("AWS::CloudFront::Distribution") == {}
    assert dev.resources("AWS::WAFv2::WebACL") == {}
