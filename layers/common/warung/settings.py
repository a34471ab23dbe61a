"""Configuration read from the environment once per cold start and validated.

A function that is deployed with a missing or malformed variable fails at init, loudly,
instead of on the first request that happens to need the value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

Stage = Literal["local", "test", "dev", "prod"]


@dataclass(frozen=True)
class Rate:
    """A configured rate limit: at most ``limit`` events per ``window_seconds``."""

    limit: int
    window_seconds: int


_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*", re.ASCII)


def _parse_rate(value: object) -> object:
    # Environment form "<limit>/<seconds>", e.g. "5/900": 5 events per 15 minutes.
    if not isinstance(value, str):
        return value
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(f"expected '<limit>/<seconds>' such as '5/900', got {value!r}")
    limit, seconds = int(match[1]), int(match[2])
    if limit < 1 or seconds < 1:
        raise ValueError(f"limit and window must both be at least 1, got {value!r}")
    return Rate(limit, seconds)


RateSetting = Annotated[Rate, BeforeValidator(_parse_rate)]


class Settings(BaseModel):
    """The settings every function shares; names mirror the environment variables."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: Stage = "local"
    app_version: str = "0.0.0"
    service_name: str = Field(default="warung", alias="POWERTOOLS_SERVICE_NAME")
    region: str = Field(default="ap-southeast-1", alias="AWS_REGION")
    cors_allow_origin: str = "*"
    table_name: str = "warung-local-main"
    audit_table_name: str = "warung-local-audit"
    cursor_secret_arn: str = ""
    # The auth function (seals) and the worker (opens): the key of one-time links (warung.links).
    link_secret_arn: str = ""
    # The key of audit entries' ip_hash (HMAC-SHA256 of the caller's address): read on the
    # first audited write of a container, never at cold start (warung.audit).
    audit_ip_hash_secret_arn: str = ""
    # Behind the stage's CloudFront distribution: the secret it adds to origin requests, which
    # makes its viewer-address header believable (warung.context; empty without CloudFront).
    origin_secret_arn: str = ""
    # Set by the local runtime and tests; in AWS the SDK's default endpoints are used.
    aws_endpoint_url: str | None = None
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    # The catalog's public listings: how long a container keeps what a hot Query returned
    # (warung.readcache, docs/decisions/0034); 0 turns the cache off. At most 30: behind
    # CloudFront's 30 s, a listing is then at most 60 s old (docs/product.md).
    read_cache_ttl_seconds: float = Field(default=30, ge=0, le=30)
    # Lets webhooks reach a receiver on this machine (127/8, ::1, plain http, any port).
    # Development only: anywhere else it would open the SSRF guard to the host itself.
    webhook_allow_loopback: bool = False
    # Rate limits (docs/product.md), "<limit>/<seconds>" (see warung.ratelimit).
    rate_login_failures_per_account: RateSetting = Rate(5, 900)
    # Per source address only a ceiling: thousands of mobile customers may share one address
    # behind carrier-grade NAT (docs/decisions/0028); the per-account lockout does the work.
    rate_login_attempts_per_ip: RateSetting = Rate(300, 60)
    rate_registrations_per_ip: RateSetting = Rate(300, 3600)
    rate_emails_per_address: RateSetting = Rate(3, 3600)
    rate_invitations_per_merchant: RateSetting = Rate(20, 86400)
    rate_invitations_per_inviter: RateSetting = Rate(50, 86400)
    # Access tokens (warung.tokens): their life is at most 15 minutes.
    jwt_issuer: str = "https://api.warung.example"
    jwt_audience: str = "warung-api"
    jwt_signing_secret_id: str = ""  # the auth function only: the private key's secret (name)
    jwks_parameter_name: str = ""  # every function: the public keys (JWK Set)
    access_token_ttl_seconds: int = Field(default=900, gt=0, le=900)
    # Orders and payments: the payment window, the provider (the simulator, which only the
    # local and dev stages may use, or Midtrans), the simulator's webhook secret, and the
    # provider's server key (Midtrans; the payments context only).
    order_payment_minutes: int = Field(default=15, gt=0, le=1440)
    # The most, in whole rupiah, one cash-on-delivery order may come to (CodLimit).
    cod_limit: int = Field(default=300_000, gt=0)
    payment_provider: Literal["simulator", "midtrans"] = "midtrans"
    payment_webhook_secret_arn: str = ""
    payment_webhook_url: str = ""
    payment_provider_secret_arn: str = ""
    # Midtrans's hosts come from the stage (sandbox, or production on prod); the local and
    # test stages may point both at the local stand-in (tools/midtrans_standin).
    midtrans_base_url: str = ""
    # The orders function only: the payments context's function that opens an order's
    # provider transaction (checkout invokes it; docs/decisions/0021). Empty: none to ask.
    payment_opener_function: str = ""
    # The admin function: the dead-letter queue it lists and redrives into the jobs queue.
    jobs_queue_arn: str = ""
    jobs_dlq_url: str = ""
    jobs_dlq_arn: str = ""

    @model_validator(mode="after")
    def _loopback_webhooks_only_locally(self) -> Settings:
        if self.webhook_allow_loopback and self.stage not in ("local", "test"):
            raise ValueError(
                f"WEBHOOK_ALLOW_LOOPBACK may only be set on the local and test stages, "
                f"not on {self.stage!r}"
            )
        if self.payment_simulator and self.stage == "prod":
            raise ValueError("PAYMENT_PROVIDER=simulator may not be used on the prod stage")
        if self.midtrans_base_url and self.stage not in ("local", "test"):
            raise ValueError("MIDTRANS_BASE_URL may only be set on the local and test stages")
        return self

    @property
    def payment_simulator(self) -> bool:
        """True where the simulator plays the provider (``/v1/payments/{id}/simulate``)."""
        return self.payment_provider == "simulator"

    @property
    def is_production(self) -> bool:
        """True on the stage that serves real customers."""
        return self.stage == "prod"


def _from_environment(environ: dict[str, str]) -> Settings:
    values: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        key = field.alias or name.upper()
        if key in environ and environ[key] != "":
            values[field.alias or name] = environ[key]
    return Settings.model_validate(values)


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from ``os.environ`` on first use."""
    try:
        return _from_environment(dict(os.environ))
    except ValidationError as exc:  # pragma: no cover - exercised by deploy mistakes
        raise RuntimeError(f"invalid configuration: {exc}") from exc
