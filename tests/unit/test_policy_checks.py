"""The policy checks of `make lint` (tools/policy_check.py): every accepted finding in
policy-skips.yaml says why, a new finding fails, and an accepted finding that is fixed must
leave the list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from policy_check import (
    SKIPS_FILE,
    Finding,
    Skip,
    cfn_lint_findings,
    checkov_findings,
    judge,
    load_skips,
)

ROOT = Path(__file__).resolve().parents[2]


def finding(check: str, resource: str, tool: str = "checkov") -> Finding:
    return Finding(tool, check, resource, "template.yaml:1", "a message")


def test_every_accepted_finding_carries_its_reason() -> None:
    skips = load_skips()
    assert {s.tool for s in skips} == {"cfn-lint", "checkov"}
    for skip in skips:
        assert len(skip.reason.split()) >= 5, f"{skip.tool} {skip.check}: {skip.reason!r}"
        assert "\n" not in skip.reason, f"{skip.tool} {skip.check}: one line"
        assert skip.resources
        # checkov ids, or cfn-lint's (E/W/I, and ES/WS for the serverless rules).
        pattern = r"CKV2?_AWS_\d+" if skip.tool == "checkov" else r"[EWI]S?\d{4}"
        assert re.fullmatch(pattern, skip.check), skip


def test_the_raw_file_has_a_non_empty_reason_on_every_entry() -> None:
    document = yaml.safe_load(SKIPS_FILE.read_text(encoding="utf-8"))
    entries = [entry for tool in ("cfn-lint", "checkov") for entry in document[tool]]
    assert entries
    assert all(isinstance(e["reason"], str) and e["reason"].strip() for e in entries)


def test_an_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    skips = tmp_path / "policy-skips.yaml"
    skips.write_text("checkov:\n  - check: CKV_AWS_117\n    resources: ['*']\n    reason: ' '\n")
    with pytest.raises(ValueError, match="reason"):
        load_skips(skips)


def test_zizmor_relaxes_only_hash_pinning_and_says_why() -> None:
    text = (ROOT / ".github" / "zizmor.yml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert config == {"rules": {"unpinned-uses": {"config": {"policies": {"*": "ref-pin"}}}}}
    assert "offline" in text, "the reason for ref-pinning is recorded beside it"


def test_a_finding_that_no_entry_accepts_fails_the_check() -> None:
    skips = [Skip("checkov", "CKV_AWS_116", ("AuthFunction",), "synchronous")]
    verdict = judge([finding("CKV_AWS_116", "AuthFunction"), finding("CKV_AWS_116", "New")], skips)
    assert verdict.accepted == [finding("CKV_AWS_116", "AuthFunction")]
    assert verdict.unexpected == [finding("CKV_AWS_116", "New")]
    assert verdict.stale == []


def test_an_entry_whose_finding_was_fixed_is_reported_stale() -> None:
    skips = [Skip("checkov", "CKV_AWS_116", ("AuthFunction", "GoneFunction"), "synchronous")]
    verdict = judge([finding("CKV_AWS_116", "AuthFunction")], skips)
    assert verdict.unexpected == []
    assert verdict.stale == ["checkov CKV_AWS_116 GoneFunction"]


def test_globs_accept_every_matching_resource_and_only_for_their_check() -> None:
    skips = [Skip("checkov", "CKV_AWS_158", ("*LogGroup",), "encrypted by default")]
    findings = [
        finding("CKV_AWS_158", "ApiAccessLogGroup"),
        finding("CKV_AWS_158", "Queue"),
        finding("CKV_AWS_27", "OrdersLogGroup"),
    ]
    verdict = judge(findings, skips)
    assert [f.resource for f in verdict.accepted] == ["ApiAccessLogGroup"]
    assert [(f.check, f.resource) for f in verdict.unexpected] == [
        ("CKV_AWS_158", "Queue"),
        ("CKV_AWS_27", "OrdersLogGroup"),
    ]


def test_reports_name_the_logical_resource_of_each_finding() -> None:
    cfn_lint = [
        {
            "Filename": "template.yaml",
            "Location": {
                "Start": {"LineNumber": 851},
                "Path": ["Resources", "OrderExpiryFunction", "Properties", "Events", "EveryMinute"],
            },
            "Message": "no on-failure destination",
            "Rule": {"Id": "ES1007"},
        }
    ]
    checkov = {
        "summary": {"parsing_errors": 0},
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AWS_120",
                    "check_name": "Ensure API Gateway caching is enabled",
                    "resource": "AWS::ApiGateway::Stage.ApiStage",
                    "file_abs_path": ".policy/template.json",
                    "file_line_range": [10, 20],
                }
            ]
        },
    }
    assert cfn_lint_findings(cfn_lint) == [
        Finding(
            "cfn-lint",
            "ES1007",
            "OrderExpiryFunction",
            "template.yaml:851",
            "no on-failure destination",
        )
    ]
    assert checkov_findings(checkov) == [
        Finding(
            "checkov",
            "CKV_AWS_120",
            "ApiStage",
            ".policy/template.json:10",
            "Ensure API Gateway caching is enabled",
        )
    ]
