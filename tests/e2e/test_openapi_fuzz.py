"""Schema-driven fuzzing of the whole API: every operation of /v1/openapi.json, many
generated requests each; no 5xx, every response matches the document, and a query parameter
the document does not declare is refused.

Locally the cases carry a signed-in customer's access token, so that protected operations
are explored beyond their 401 (a fresh sign-in per operation: a generated "log out
everywhere" must not blind the operations after it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from support.accounts import PASSWORD, verified_login
from support.http import call

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

schema = schemathesis.pytest.from_fixture("api_schema")

# What may answer before the request's parameters are judged: the edge (invalid JSON, size,
# media type), routing, the caller's guard. Anything later is the validation's 422.
REFUSED_EARLIER = {400: "invalid_json", 401: None, 403: None, 404: None, 405: None}
REFUSED_EARLIER |= {413: "payload_too_large", 415: "unsupported_media_type"}


def undeclared_query_parameters_are_refused(ctx: Any, response: Any, case: OpenApiCase) -> None:
    """Schemathesis excuses a negative case whose only fault is an extra query parameter
    ("often ignored for backward compatibility"); this API refuses it like an unknown body
    field: never accepted, and the 422 names every such parameter."""
    declared = {parameter.name for parameter in case.operation.query}
    # What was sent (a generated parameter whose value is null is left out of the URL).
    sent = {name for name, _ in parse_qsl(urlsplit(response.request.url).query, True)}
    unknown = sorted(sent - declared)
    if not unknown:
        return
    status = response.status_code
    body = response.json() if status >= 400 else {}
    if status in REFUSED_EARLIER:
        expected = REFUSED_EARLIER[status]
        assert expected in (None, body.get("code")), (status, body)
        return
    assert status == 422, f"undeclared query parameters {unknown} answered {status}"
    named = {error["field"] for error in body.get("errors", [])}
    assert set(unknown) <= named, (unknown, body)


@pytest.fixture(scope="session")
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{api_url}/v1/openapi.json")
    loaded.config.base_url = api_url  # the deployed document names a stage base path
    return loaded


@pytest.fixture(scope="session")
def fuzz_account(api_url: str) -> str | None:
    """A verified customer for the fuzzer (local runtime only: it reads the e-mail)."""
    if os.environ.get("API_URL"):
        return None
    email, _ = verified_login(api_url)
    return email


@pytest.fixture
def auth_headers(api_url: str, fuzz_account: str | None) -> dict[str, str]:
    if fuzz_account is None:
        return {}
    login = call(api_url, "POST", "/v1/auth/login", {"email": fuzz_account, "password": PASSWORD})
    assert login.status == 200, login.body
    return {"Authorization": f"Bearer {login.body['access_token']}"}


@pytest.mark.fuzz
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_match_the_document(
    case: OpenApiCase, auth_headers: dict[str, Any]
) -> None:
    # A case generated without credentials (or with broken ones) on purpose is sent as it
    # was generated: adding the token back would make the API accept what the case meant
    # to be refused, and the check would fail by chance.
    negated = case.operation.schema.is_security_param_negated(case)
    # Every check runs but one: "schema-valid data is accepted" does not hold for business
    # rules by design (a random, well-formed verification token is 400 invalid_token; a
    # long common password is 422). One is added: the refusal of undeclared parameters.
    case.call_and_validate(
        headers={} if negated else auth_headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[undeclared_query_parameters_are_refused],
    )
