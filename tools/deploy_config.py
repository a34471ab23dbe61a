"""What `make deploy` passes to `sam deploy`, and the refusal of a half-set prod.

    python tools/deploy_config.py check ENV
    python tools/deploy_config.py overrides ENV [--app-version SHA]

`check` reads samconfig.toml's ``[ENV.deploy.parameters]`` and refuses (exit 2, one line per
problem) a prod whose required values are missing or still the placeholders the file ships
with (``REPLACE_WITH…``): where links point (PublicAppUrl, https), who sends mail (MailFrom),
the tokens' issuer (TokenIssuer), the browser origin (CorsAllowOrigin) and where alarms go
(AlarmEmail or AlarmTopicArn), and behind CloudFront with WAF the edge's web ACL
(CdnWebAclArn). The template's Rules refuse the same on CloudFormation's side;
this says it before anything is built.

`overrides` prints the parameter overrides of ENV with ``AppVersion`` set to the release (the
git commit), one ``Key=Value`` per line: `sam deploy --parameter-overrides` replaces the
file's list rather than adding to it, so make passes the whole list.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = ROOT / "samconfig.toml"
PLACEHOLDER = "REPLACE_WITH"
# What a prod stack cannot run without, and what each is for.
REQUIRED_ON_PROD = {
    "PublicAppUrl": "the https URL of your front end (links in e-mails)",
    "MailFrom": "a sender address verified in SES (out of the sandbox)",
    "TokenIssuer": "your API's own https address (the `iss` of access tokens)",
    "CorsAllowOrigin": "your front end's origin, e.g. https://app.your-domain",
}


def overrides_of(config: Mapping[str, object], env: str) -> dict[str, str]:
    """The ``parameter_overrides`` of ``[env.deploy.parameters]`` as a mapping."""
    section = config.get(env)
    if not isinstance(section, Mapping):
        raise KeyError(f"samconfig.toml has no [{env}] section")
    deploy = section.get("deploy", {})
    parameters = deploy.get("parameters", {}) if isinstance(deploy, Mapping) else {}
    raw = parameters.get("parameter_overrides", "") if isinstance(parameters, Mapping) else ""
    items = shlex.split(raw) if isinstance(raw, str) else [str(item) for item in raw]
    pairs = (item.split("=", 1) for item in items if "=" in item)
    return {pair[0]: pair[1] for pair in pairs}


def problems(env: str, overrides: Mapping[str, str]) -> list[str]:
    """Why ``env`` may not be deployed as configured (empty: it may)."""
    if env != "prod":
        return []
    found = []
    for name, what in REQUIRED_ON_PROD.items():
        value = overrides.get(name, "")
        if not value or value.startswith(PLACEHOLDER):
            found.append(f"{name}: set {what}")
        elif name in {"PublicAppUrl", "TokenIssuer"} and not value.startswith("https://"):
            found.append(f"{name}: must be an https:// URL, not {value!r}")
        elif "localhost" in value or "127.0.0.1" in value:
            found.append(f"{name}: a local address cannot serve prod ({value!r})")
    alarm_email = overrides.get("AlarmEmail", "")
    alarm_topic = overrides.get("AlarmTopicArn", "")
    has_email = bool(alarm_email) and not alarm_email.startswith(PLACEHOLDER)
    has_topic = bool(alarm_topic) and not alarm_topic.startswith(PLACEHOLDER)
    if not (has_email or has_topic):
        found.append("AlarmEmail or AlarmTopicArn: set where alarms go (an on-call address)")
    edge_waf = overrides.get("EnableCdn") == "true" and overrides.get("EnableWaf") == "true"
    acl = overrides.get("CdnWebAclArn", "")
    if edge_waf and (not acl or acl.startswith(PLACEHOLDER)):
        found.append(
            "CdnWebAclArn: set the CloudFront web ACL's ARN that `make bootstrap-edge` prints"
            " (us-east-1): behind CloudFront, WAF runs at the edge"
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("check", "overrides"))
    parser.add_argument("env")
    parser.add_argument("--app-version", default="")
    parser.add_argument("--config", type=Path, default=SAMCONFIG)
    args = parser.parse_args(argv)
    config = tomllib.loads(args.config.read_text(encoding="utf-8"))
    try:
        overrides = overrides_of(config, args.env)
    except KeyError as error:
        print(f"make deploy: {error.args[0]}", file=sys.stderr)
        return 2
    if args.command == "check":
        found = problems(args.env, overrides)
        for problem in found:
            print(f"make deploy ENV={args.env}: {problem}", file=sys.stderr)
        if found:
            where = f"[{args.env}.deploy.parameters] parameter_overrides in samconfig.toml"
            print(f"Nothing was deployed. Fill these in {where}.", file=sys.stderr)
        return 2 if found else 0
    if args.app_version:
        overrides = {**overrides, "AppVersion": args.app_version}
    for key, value in overrides.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
