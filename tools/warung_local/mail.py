"""The emails sent through SES in the emulation, for `GET /_local/mail`.

moto 5.2.5 keeps sent mail in its SES backend (`sent_messages`), shared by SES v1 and
SESv2, but not all of it:

- `SendEmail` with a simple message (v1 `Message`, v2 `Content.Simple`) stores one
  body only: the HTML part when there is one, else the text part. The text part of a
  text+HTML email is lost, and the stored body does not say which kind it is.
- `SendRawEmail` / v2 `Content.Raw` stores the whole MIME message, which parses back
  into subject, text and HTML with the `email` package.
- Nothing records when a message was sent.

So the mailbox observes SES requests as the emulation serves them (inside its request
lock, right after moto stored the message): it stamps each new message with the time
and, for simple messages, keeps the text and HTML parts of the request by message id.
Listing reads moto's backend and fills in what moto dropped.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any
from urllib.parse import parse_qs

from moto.ses.models import RawMessage, ses_backends

_SESV2_SEND_PATH = "/v2/email/outbound-emails"


@dataclass
class _Extra:
    sent_at: str
    text: str | None = None
    html: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MailBox:
    """Observes SES sends in the emulation and lists the mail moto stored."""

    def __init__(self) -> None:
        self._extras: dict[str, _Extra] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ observing

    def __call__(
        self, environ: dict[str, Any], request_body: bytes, status: str, response_body: bytes
    ) -> None:
        """Record what a successful SES send request carried (a `RequestObserver`)."""
        if not status.startswith("200"):
            return
        parts = _simple_parts(environ, request_body)
        if parts is None:
            return
        message_id = _message_id(response_body)
        with self._lock:
            if message_id:
                self._extras[message_id] = _Extra(_now(), *parts)
            self._stamp_new()

    def _stamp_new(self) -> None:
        for message in _stored_messages():
            self._extras.setdefault(str(message.id), _Extra(_now()))

    # ------------------------------------------------------------------ listing

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Sent emails, oldest first, only those addressed to `to` when given."""
        with self._lock:
            self._stamp_new()
            described = [self._describe(message) for message in _stored_messages()]
        wanted = to.strip().lower() if to else None
        listed: list[dict[str, Any]] = []
        for item in described:
            if item is None:
                continue
            recipients = {str(a).lower() for a in item.pop("_recipients")}
            if wanted is None or wanted in recipients:
                listed.append(item)
        listed.sort(key=lambda m: str(m["sent_at"]))  # stable: keeps moto's order within a second
        return listed

    def _describe(self, message: Any) -> dict[str, Any] | None:
        extra = self._extras.get(str(message.id)) or _Extra(_now())
        if isinstance(message, RawMessage):
            return _describe_raw(message, extra)
        if not hasattr(message, "body"):
            return None  # templated sends: moto keeps no rendered body
        destinations = message.destinations or {}
        to = list(destinations.get("ToAddresses", []))
        recipients = (
            to
            + list(destinations.get("CcAddresses", []))
            + list(destinations.get("BccAddresses", []))
        )
        text, html = extra.text, extra.html
        if text is None and html is None:
            # Sent before the mailbox watched: moto kept one body, guess its kind.
            body = str(message.body)
            html, text = (body, None) if "<" in body and ">" in body else (None, body)
        return {
            "to": to,
            "from": message.source,
            "subject": message.subject,
            "text": text,
            "html": html,
            "sent_at": extra.sent_at,
            "_recipients": [parseaddr(r)[1] or r for r in recipients],
        }


def _stored_messages() -> list[Any]:
    found: list[Any] = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            found.extend(list(backend.sent_messages))
    return found


def _describe_raw(message: Any, extra: _Extra) -> dict[str, Any]:
    parsed = email.message_from_string(str(message.raw_data), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text = html = None
    for part in parsed.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and text is None:
            text = str(part.get_content())
        elif content_type == "text/html" and html is None:
            html = str(part.get_content())
    to = [address for _, address in getaddresses(parsed.get_all("To", []))]
    recipients = [parseaddr(r)[1] or r for r in message.destinations]
    return {
        "to": to,
        "from": parseaddr(str(parsed.get("From", message.source or "")))[1] or message.source,
        "subject": str(parsed.get("Subject", "")),
        "text": text,
        "html": html,
        "sent_at": extra.sent_at,
        "_recipients": recipients or to,
    }


def _simple_parts(environ: dict[str, Any], body: bytes) -> tuple[str | None, str | None] | None:
    """(text, html) of an SES send request; None if the request is not an SES send."""
    path = str(environ.get("PATH_INFO", ""))
    if environ.get("REQUEST_METHOD") == "POST" and path.rstrip("/") == _SESV2_SEND_PATH:
        try:
            content = json.loads(body or b"{}").get("Content") or {}
        except ValueError:
            return None
        simple_body = (content.get("Simple") or {}).get("Body") or {}
        return (
            (simple_body.get("Text") or {}).get("Data"),
            (simple_body.get("Html") or {}).get("Data"),
        )
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if "x-www-form-urlencoded" in content_type and b"Action=Send" in body:
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("Action", [""])[0] not in {"SendEmail", "SendRawEmail"}:
            return None
        return form.get("Message.Body.Text.Data", [None])[0], form.get(
            "Message.Body.Html.Data", [None]
        )[0]
    return None


def _message_id(response_body: bytes) -> str | None:
    text = response_body.decode("utf-8", "replace")
    try:
        value = json.loads(text).get("MessageId")
        return None if value is None else str(value)
    except ValueError:
        pass
    # SES v1 answers in XML: <MessageId>...</MessageId>
    start = text.find("<MessageId>")
    end = text.find("</MessageId>")
    if start != -1 and end != -1:
        return text[start + len("<MessageId>") : end]
    return None
