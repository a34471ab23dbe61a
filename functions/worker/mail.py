"""The e-mails the worker sends: a job payload rendered to subject, text and HTML, sent by SESv2.

Each e-mail kind has three templates in ``templates/``: ``<kind>.subject.j2`` (one line),
``<kind>.txt.j2`` and ``<kind>.html.j2`` (on the shared ``_base.html.j2`` layout). HTML
templates are autoescaped, so a customer's name or a merchant's notes can never become markup;
text templates are not escaped and show such text as it was typed (which is why such text is
one line without control characters, checked where it enters: ``warung.models.OneLineText``).

The worker calls, per job::

    rendered = mail.render(job, link=opened_link)   # one-time link e-mails only
    message_id = mail.send(mail.sesv2_client(), sender=..., job=job, rendered=rendered,
                           idempotency_token=job_id)

Nothing here logs: the address and the body are personal data, the caller logs a masked address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from warung.clients import aws_client
from warung.jobs import (
    EmailJob,
    InvitationEmail,
    MerchantNewOrderEmail,
    OneTimeLinkEmail,
    OrderPaidEmail,
    OrderStatusEmail,
    PasswordResetEmail,
    RefundEmail,
    VerificationEmail,
)

if TYPE_CHECKING:
    from jinja2 import Environment

# Next to this file both in the repository and in the `sam build` artifact.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# job_type -> the stem of its templates.
EMAIL_KINDS: dict[str, str] = {
    VerificationEmail.job_type: "verification",
    PasswordResetEmail.job_type: "password_reset",
    InvitationEmail.job_type: "invitation",
    OrderPaidEmail.job_type: "order_paid",
    MerchantNewOrderEmail.job_type: "merchant_new_order",
    OrderStatusEmail.job_type: "order_status",
    RefundEmail.job_type: "refund",
}

# Order statuses as a customer reads them; an unknown status falls back to its words.
STATUS_WORDS: dict[str, str] = {
    "pending_payment": "waiting for payment",
    "paid": "paid",
    "placed": "placed, to be paid in cash on delivery",
    "accepted": "accepted",
    "preparing": "being prepared",
    "out_for_delivery": "out for delivery",
    "delivered": "delivered",
    "failed_delivery": "not delivered",
    "cancelled": "cancelled",
    "rejected": "rejected",
    "expired": "expired",
}

# SES message tags: names and values of ASCII letters, digits, '_' and '-', at most 256.
_SES_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_SES_TAG_MAX = 256
_CHARSET = "UTF-8"


@dataclass(frozen=True)
class RenderedEmail:
    """An e-mail ready to send: a one-line subject, a plain text part and an HTML part."""

    subject: str
    text: str
    html: str


def email_kind(job_type: str) -> str:
    """The template stem for an e-mail ``job_type`` (``email.verification`` → ``verification``).

    Raises ``ValueError`` for a job type that has no e-mail templates.
    """
    try:
        return EMAIL_KINDS[job_type]
    except KeyError:
        raise ValueError(f"no e-mail templates for job type {job_type!r}") from None


def rupiah(amount: int) -> str:
    """Format an integer amount of rupiah the Indonesian way: ``25000`` → ``Rp25.000``."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        # Money is integer rupiah everywhere; a float here is a bug upstream, not a format.
        raise TypeError(f"rupiah amounts are integers, not {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def status_words(status: str) -> str:
    """An order status as words: ``out_for_delivery`` → ``out for delivery``."""
    return STATUS_WORDS.get(status, status.replace("_", " "))


def http_url(url: str) -> str:
    """``url`` itself when it is an absolute http(s) URL; otherwise ``ValueError``.

    Links in e-mails are built by the backend, so anything else (``javascript:``, ``data:``,
    a relative path, whitespace or control characters that browsers strip) is a bug or an
    attack, and the e-mail is not sent rather than carrying it.
    """
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise ValueError("an e-mail link must not contain whitespace or control characters")
    scheme, sep, rest = url.partition(":")
    if not sep or scheme.lower() not in {"http", "https"} or not rest.startswith("//"):
        raise ValueError("an e-mail link must be an absolute http(s) URL")
    if not urlsplit(url).hostname:
        raise ValueError("an e-mail link must name a host")
    return url


def ses_tag_value(value: str) -> str:
    """``value`` reduced to what SES accepts in a message tag (``[A-Za-z0-9_-]``, 256 chars)."""
    return _SES_TAG_UNSAFE.sub("_", value)[:_SES_TAG_MAX]


@cache
def template_environment() -> Environment:
    """The process-wide Jinja2 environment, created on first use.

    Jinja2 is imported here rather than at module import so that a cold start which sends
    no e-mail does not pay for it. HTML templates are autoescaped; a variable a template
    names but the job does not carry is an error (``StrictUndefined``), not an empty string.
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"),
            disabled_extensions=("txt", "txt.j2", "subject.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["rupiah"] = rupiah
    environment.filters["status_words"] = status_words
    environment.filters["http_url"] = http_url
    return environment


def render(job: EmailJob, link: str | None = None) -> RenderedEmail:
    """Render ``job`` to its subject, plain text and HTML; ``link`` is the opened one-time
    link of a :class:`OneTimeLinkEmail` (templates show it as ``link``).

    Raises ``ValueError`` for a job type without templates or a link (``link``, ``*_url``)
    that is not an absolute http(s) URL.
    """
    kind = email_kind(job.job_type)
    context: dict[str, Any] = job.model_dump(exclude={"sealed_link"})
    if isinstance(job, OneTimeLinkEmail):
        if link is None:
            raise ValueError("a one-time link e-mail needs its opened link")
        context["link"] = link
    for field, value in context.items():
        if (field == "link" or field.endswith("_url")) and isinstance(value, str):
            http_url(value)
    environment = template_environment()
    subject_line = environment.get_template(f"{kind}.subject.j2").render(context)
    # A header is one line whatever the data says (a name with a newline in it, say).
    subject = " ".join(subject_line.split())
    context["subject"] = subject
    text = environment.get_template(f"{kind}.txt.j2").render(context)
    html = environment.get_template(f"{kind}.html.j2").render(context)
    return RenderedEmail(subject=subject, text=text + "\n", html=html + "\n")


def send(
    client: Any,
    *,
    sender: str,
    job: EmailJob,
    rendered: RenderedEmail,
    idempotency_token: str | None = None,
) -> str:
    """Send ``rendered`` to ``job.to`` through SESv2 and return SES's message id.

    ``idempotency_token`` (the job id) is attached as the ``job_id`` message tag, so that
    SES events (deliveries, bounces) can be traced back to the job; the e-mail kind is
    attached as the ``kind`` tag. SES errors propagate for the caller to retry.
    """
    tags = [{"Name": "kind", "Value": ses_tag_value(email_kind(job.job_type))}]
    if idempotency_token:
        tags.append({"Name": "job_id", "Value": ses_tag_value(idempotency_token)})
    response = client.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [job.to]},
        Content={
            "Simple": {
                "Subject": {"Data": rendered.subject, "Charset": _CHARSET},
                "Body": {
                    "Text": {"Data": rendered.text, "Charset": _CHARSET},
                    "Html": {"Data": rendered.html, "Charset": _CHARSET},
                },
            }
        },
        EmailTags=tags,
    )
    return str(response["MessageId"])


def sesv2_client() -> Any:
    """The SESv2 client (shared per execution environment, see ``warung.clients``)."""
    return aws_client("sesv2", read_timeout=10, max_attempts=3)
