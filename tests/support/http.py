"""A small JSON HTTP client for end-to-end tests (stdlib only)."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen


@dataclass
class Reply:
    """What the client saw: status, headers (case-insensitive lookups) and JSON body."""

    status: int
    headers: dict[str, str]
    body: Any

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request; JSON in and out."""
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = Request(base + path, data=data, method=method, headers=sent)
    try:
        with urlopen(request, timeout=30) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    return Reply(status, got, json.loads(raw) if raw else None)


def unique_email(tag: str = "user") -> str:
    """A fresh address for one test."""
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def wait_for_mail(
    base: str, to: str, *, count: int = 1, timeout_s: float = 20.0
) -> list[dict[str, Any]]:
    """The e-mails sent to ``to`` once at least ``count`` arrived (jobs run in the background)."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = call(base, "GET", f"/_local/mail?to={to}").body
        if len(messages) >= count or time.monotonic() > deadline:
            return list(messages)
        time.sleep(0.2)


def token_in(mail: dict[str, Any]) -> str:
    """The one-time token of a verification or reset link in an e-mail's text."""
    match = re.search(r"token=([A-Za-z0-9_\-]+)", mail["text"])
    assert match, mail["text"]
    return match.group(1)
