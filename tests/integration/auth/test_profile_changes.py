"""PATCH /v1/me: name and phone only, each change audited with what changed."""

from __future__ import annotations

from support.auth_world import PASSWORD, AuthWorld, plain

from auth import repository, service


def signed_in(auth: AuthWorld, *, phone: str | None = None) -> tuple[str, str]:
    account = auth.make_account(name="Sri Rahayu")
    if phone:
        service.update_profile(account.user_id, {"phone": phone}, auth.meta("set-phone"))
    token = service.login(account.email, PASSWORD, auth.meta("login")).access_token
    return account.user_id, token


def test_given_a_name_and_phone_when_patched_then_shown_and_audited_with_the_change(
    auth: AuthWorld,
) -> None:
    user_id, token = signed_in(auth)

    status, _, body = auth.invoke(
        "PATCH", "/v1/me", {"name": "Sri R.", "phone": "+6281234567890"}, token=token
    )

    assert status == 200
    assert (body["name"], body["phone"]) == ("Sri R.", "+6281234567890")
    (entry,) = [e for e in plain(auth.by_actor(user_id)) if e["action"] == "user.profile_updated"]
    assert entry["changes"] == {
        "name": {"from": "Sri Rahayu", "to": "Sri R."},
        "phone": {"from": None, "to": "+6281234567890"},
    }


def test_given_a_phone_when_cleared_with_null_then_200_and_no_phone(auth: AuthWorld) -> None:
    # MePatch accepts `"phone": null`; removing one's phone number is an ordinary request.
    user_id, token = signed_in(auth, phone="+6281234567890")

    status, _, body = auth.invoke("PATCH", "/v1/me", {"phone": None}, token=token)

    assert status == 200, body
    assert body["phone"] is None
    stored = repository.get_account(user_id)
    assert stored is not None
    assert stored.phone is None


def test_given_a_null_name_when_patched_then_422_not_500(auth: AuthWorld) -> None:
    # Every account has a name (GET /v1/me promises a string): null is invalid input.
    user_id, token = signed_in(auth)

    status, _, body = auth.invoke("PATCH", "/v1/me", {"name": None}, token=token)

    assert (status, body["code"]) == (422, "validation_error"), body
    stored = repository.get_account(user_id)
    assert stored is not None
    assert stored.name == "Sri Rahayu"
