"""Run a policy checker on the templates and fail on any finding not accepted in policy-skips.yaml.

    python tools/policy_check.py cfn-lint template.yaml
    python tools/policy_check.py checkov template.yaml .policy/template.json

`make lint` runs both. cfn-lint runs with the serverless rules (cfn-lint-serverless);
checkov runs offline (no guideline download, no version check). The checkers themselves
live in their own virtual environment (`.venv-policy`, from requirements-policy.txt).

policy-skips.yaml lists the accepted findings, each with its reason, by check id and
logical resource id ("*" or a glob where the reason holds for every match). The check fails
on a finding that no entry accepts, and on an entry that accepts nothing any more (the
finding was fixed: the entry goes too), so the list stays the list of what is true today.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SKIPS_FILE = ROOT / "policy-skips.yaml"
TOOLS = ("cfn-lint", "checkov")


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource, as a checker reported it."""

    tool: str
    check: str
    resource: str  # logical id, e.g. OrderExpiryFunction
    where: str  # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.check} {self.resource}: {self.message}"


@dataclass(frozen=True)
class Skip:
    """An accepted finding: a check on the resources matching `resources`, and why."""

    tool: str
    check: str
    resources: tuple[str, ...]
    reason: str

    def accepts(self, finding: Finding) -> bool:
        return finding.check == self.check and any(
            fnmatch.fnmatchcase(finding.resource, pattern) for pattern in self.resources
        )


@dataclass(frozen=True)
class Verdict:
    """What a run of a checker comes to, against the accepted findings."""

    accepted: list[Finding]
    unexpected: list[Finding]  # no entry accepts them: fix, or accept with a reason
    stale: list[str]  # entries (or resources of entries) that match nothing any more


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """The entries of policy-skips.yaml; a missing check, resource list or reason is an error."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(document) - set(TOOLS)
    if unknown:
        raise ValueError(f"{path.name}: unknown tools {sorted(unknown)} (known: {TOOLS})")
    skips = []
    for tool in TOOLS:
        for number, entry in enumerate(document.get(tool) or [], start=1):
            check, resources, reason = (entry.get(k) for k in ("check", "resources", "reason"))
            where = f"{path.name}: {tool} entry {number} ({check})"
            if not isinstance(check, str) or not check:
                raise ValueError(f"{where}: `check` must name a check id")
            if not isinstance(resources, list) or not resources:
                raise ValueError(f"{where}: `resources` must list logical ids or globs")
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(f"{where}: every accepted finding needs its `reason`")
            skips.append(Skip(tool, check, tuple(str(r) for r in resources), reason.strip()))
    return skips


def judge(findings: Iterable[Finding], skips: Sequence[Skip]) -> Verdict:
    """Sort `findings` into accepted and unexpected, and find the entries that went stale."""
    accepted: list[Finding] = []
    unexpected: list[Finding] = []
    for finding in findings:
        (accepted if any(s.accepts(finding) for s in skips) else unexpected).append(finding)
    stale = []
    for skip in skips:
        for pattern in skip.resources:
            if not any(
                f.check == skip.check and fnmatch.fnmatchcase(f.resource, pattern) for f in accepted
            ):
                stale.append(f"{skip.tool} {skip.check} {pattern}")
    return Verdict(accepted, unexpected, stale)


def cfn_lint_findings(report: list[dict[str, Any]]) -> list[Finding]:
    """The findings of a `cfn-lint --format json` report."""
    findings = []
    for match in report:
        path = [str(p) for p in match["Location"]["Path"]]
        resource = path[1] if path[:1] == ["Resources"] and len(path) > 1 else "/".join(path[:2])
        line = match["Location"]["Start"]["LineNumber"]
        findings.append(
            Finding(
                "cfn-lint",
                match["Rule"]["Id"],
                resource,
                f"{match['Filename']}:{line}",
                match["Message"],
            )
        )
    return findings


def checkov_findings(report: dict[str, Any] | list[dict[str, Any]]) -> list[Finding]:
    """The failed checks of a `checkov -o json` report (one report, or one per framework)."""
    reports = report if isinstance(report, list) else [report]
    findings = []
    for one in reports:
        if one.get("summary", {}).get("parsing_errors"):
            raise RuntimeError(f"checkov could not parse: {one['results'].get('parsing_errors')}")
        for failed in one.get("results", {}).get("failed_checks", []):
            _type, _, logical_id = failed["resource"].partition(".")
            findings.append(
                Finding(
                    "checkov",
                    failed["check_id"],
                    logical_id,
                    f"{failed['file_abs_path']}:{failed['file_line_range'][0]}",
                    failed["check_name"],
                )
            )
    return findings


def run_cfn_lint(venv: Path, templates: Sequence[str]) -> list[Finding]:
    command = [str(venv / "bin/cfn-lint"), *templates, "-a", "cfn_lint_serverless.rules"]
    print("+", " ".join(command), "--format json", flush=True)
    result = subprocess.run(
        [*command, "--format", "json"], check=False, capture_output=True, text=True
    )
    # Exit codes are bit flags: 2, 4, 8 for error, warning and informational matches; 1 is
    # cfn-lint failing (a template it cannot read, an unknown rule).
    if result.returncode & 1 or not result.stdout.strip():
        sys.exit(f"cfn-lint failed (exit code {result.returncode}):\n{result.stderr}")
    return cfn_lint_findings(json.loads(result.stdout))


def run_checkov(venv: Path, templates: Sequence[str]) -> list[Finding]:
    command = [str(venv / "bin/checkov"), "--framework", "cloudformation", "--skip-download"]
    for template in templates:
        command += ["-f", template]
    print("+", " ".join(command), "--quiet -o json", flush=True)
    # Offline: no guidelines from the platform (--skip-download, BC_SKIP_MAPPING) and no
    # look-up of a newer checkov on the package index.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    result = subprocess.run(
        [*command, "--quiet", "-o", "json"], check=False, capture_output=True, text=True, env=env
    )
    # 0: no failed check, 1: failed checks (judged below); anything else is checkov failing.
    if result.returncode not in (0, 1) or not result.stdout.strip():
        sys.exit(f"checkov failed (exit code {result.returncode}):\n{result.stderr}")
    return checkov_findings(json.loads(result.stdout))


def report(tool: str, verdict: Verdict) -> int:
    """Print the verdict; 1 when the run fails."""
    for finding in verdict.unexpected:
        print(f"{tool}: NEW FINDING {finding}")
    for entry in verdict.stale:
        print(f"{tool}: policy-skips.yaml accepts `{entry}`, which no longer fails: remove it")
    print(
        f"{tool}: {len(verdict.accepted)} accepted finding(s) (policy-skips.yaml), "
        f"{len(verdict.unexpected)} new, {len(verdict.stale)} stale skip(s)"
    )
    if verdict.unexpected:
        print(f"{tool}: fix each new finding, or accept it in policy-skips.yaml with its reason")
    return 1 if verdict.unexpected or verdict.stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cfn-lint or checkov, judged by policy-skips.yaml")
    parser.add_argument("tool", choices=TOOLS)
    parser.add_argument("templates", nargs="+")
    parser.add_argument("--venv", type=Path, default=Path(".venv-policy"))
    args = parser.parse_args(argv)
    skips = [s for s in load_skips() if s.tool == args.tool]
    run = run_cfn_lint if args.tool == "cfn-lint" else run_checkov
    return report(args.tool, judge(run(args.venv, args.templates), skips))


if __name__ == "__main__":
    sys.exit(main())
