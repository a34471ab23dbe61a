"""An invitation expires 7 days after it was made: invited on one run of the local runtime,
then, on its kept data, a second run whose wall clock is 7 days and a minute later
(`WARUNG_CLOCK_OFFSET_S`, as `make test-clock` moves it) no longer offers or accepts it.

It starts `dev` twice on a data folder of its own (local only), never the session's runtime.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clock_shift import ENV as CLOCK_OFFSET
from support.accounts import PASSWORD, verified_login
from support.dev import running_dev, stop_dev
from support.http import call
from support.merchants import activate, demo_login, new_merchant

pytestmark = pytest.mark.usefixtures("local_only")

SEVEN_DAYS_AND_A_MINUTE_S = 7 * 24 * 3600 + 60


def test_an_invitation_is_gone_once_the_clock_has_moved_seven_days_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # given an invitation made on the first run, seen by its invitee
    with running_dev(tmp_path / "first.log", data_dir=data) as first:
        api = f"http://127.0.0.1:{first.port}"
        owner_email, owner = verified_login(api)
        mid = new_merchant(api, owner["access_token"])["id"]
        activate(api, demo_login(api, "admin@example.com"), mid)
        email, invitee = verified_login(api)
        invited = call(
            api,
            "POST",
            f"/v1/merchants/{mid}/members",
            {"email": email, "role": "staff"},
            token=owner["access_token"],
        )
        assert invited.status == 202
        mine = call(api, "GET", "/v1/me/invitations", token=invitee["access_token"])
        [invitation] = mine.body["items"]
        assert stop_dev(first) == 0

    # when the runtime comes back on the same data with its clock 7 days and a minute later
    # (than the first run's: a suite whose clock is already moved moves it further on)
    already = float(os.environ.get(CLOCK_OFFSET) or 0)
    monkeypatch.setenv(CLOCK_OFFSET, str(already + SEVEN_DAYS_AND_A_MINUTE_S))
    with running_dev(tmp_path / "second.log", data_dir=data) as second:
        api = f"http://127.0.0.1:{second.port}"
        signed_in = call(api, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
        assert signed_in.status == 200, signed_in.body
        token = signed_in.body["access_token"]

        # then the invitee no longer sees it and cannot accept it; the owner's list is empty
        assert call(api, "GET", "/v1/me/invitations", token=token).body["items"] == []
        late = call(api, "POST", f"/v1/invitations/{invitation['id']}/accept", token=token)
        assert (late.status, late.body["code"]) == (404, "not_found")
        assert call(api, "GET", f"/v1/merchants/{mid}/members", token=token).status == 404
        owner_again = call(
            api, "POST", "/v1/auth/login", {"email": owner_email, "password": PASSWORD}
        )
        assert owner_again.status == 200
        listed = call(
            api,
            "GET",
            f"/v1/merchants/{mid}/invitations",
            token=owner_again.body["access_token"],
        )
        assert (listed.status, listed.body["items"]) == (200, [])
        assert stop_dev(second) == 0
