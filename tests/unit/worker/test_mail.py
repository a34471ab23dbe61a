"""The worker's e-mails: what each kind says, how money reads, and that user text stays text."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from warung.jobs import (
    JOB_PAYLOADS,
    EmailJob,
    EmailLine,
    InvitationEmail,
    MerchantNewOrderEmail,
    OneTimeLinkEmail,
    OrderPaidEmail,
    OrderStatusEmail,
    PasswordResetEmail,
    RefundEmail,
    VerificationEmail,
)
from worker import mail

ROOT = Path(__file__).resolve().parents[3]
WORKER = ROOT / "functions" / "worker"

SCRIPT = "<script>alert(1)</script>"
ORDER_ID = "01JDX4Y4S5N7Q8R9T0V1W2X3Y4"
NUMBER = "WRG-7K4Q-2M9X"
IMG = '"><img src=x onerror=alert(1)>'


# ---------------------------------------------------------------- sample jobs


# The worker opens the sealed link (warung.links) before it renders; render gets it opened.
VERIFY_LINK = "https://app.warung.test/verify?token=abc&u=1"
RESET_LINK = "https://app.warung.test/reset?token=xyz"


def verification(**overrides: Any) -> VerificationEmail:
    fields: dict[str, Any] = {
        "to": "siti@example.com",
        "sealed_link": "c2VhbGVk",
        "expires_in_hours": 24,
    }
    return VerificationEmail(**(fields | overrides))


def password_reset(**overrides: Any) -> PasswordResetEmail:
    fields: dict[str, Any] = {
        "to": "siti@example.com",
        "sealed_link": "c2VhbGVk",
        "expires_in_minutes": 30,
    }
    return PasswordResetEmail(**(fields | overrides))


def invitation(**overrides: Any) -> InvitationEmail:
    fields: dict[str, Any] = {
        "to": "rina@example.com",
        "merchant_name": "Warung Bu Tini",
        "role": "manager",
        "invitations_url": "https://app.warung.test/invitations",
        "has_account": False,
        "expires_in_days": 7,
    }
    return InvitationEmail(**(fields | overrides))


LINES = [
    EmailLine(name="Nasi goreng spesial", quantity=2, line_total=50000),
    EmailLine(name="Es teh manis", quantity=3, line_total=15000),
]


def order_paid(**overrides: Any) -> OrderPaidEmail:
    fields: dict[str, Any] = {
        "to": "budi@example.com",
        "name": "Budi",
        "order_id": ORDER_ID,
        "order_number": NUMBER,
        "merchant_name": "Warung Bu Tini",
        "items": LINES,
        "subtotal": 65000,
        "discount": 6500,
        "delivery_fee": 9000,
        "tax": 6435,
        "total": 73935,
    }
    return OrderPaidEmail(**(fields | overrides))


def merchant_new_order(**overrides: Any) -> MerchantNewOrderEmail:
    fields: dict[str, Any] = {
        "to": "tini@example.com",
        "name": "Tini",
        "merchant_name": "Warung Bu Tini",
        "order_id": ORDER_ID,
        "order_number": NUMBER,
        "items": LINES,
        "total": 73935,
        "delivery_address": "Jl. Braga No. 12, Bandung 40111",
        "notes": "Tidak pedas, please",
    }
    return MerchantNewOrderEmail(**(fields | overrides))


def order_status(**overrides: Any) -> OrderStatusEmail:
    fields: dict[str, Any] = {
        "to": "budi@example.com",
        "name": "Budi",
        "order_id": ORDER_ID,
        "order_number": NUMBER,
        "merchant_name": "Warung Bu Tini",
        "status": "out_for_delivery",
        "reason": None,
    }
    return OrderStatusEmail(**(fields | overrides))


def refund(**overrides: Any) -> RefundEmail:
    fields: dict[str, Any] = {
        "to": "budi@example.com",
        "name": "Budi",
        "order_id": ORDER_ID,
        "order_number": NUMBER,
        "merchant_name": "Warung Bu Tini",
        "amount": 73935,
        "reason": "Rejected by the merchant",
    }
    return RefundEmail(**(fields | overrides))


ALL_KINDS = [
    verification,
    password_reset,
    invitation,
    order_paid,
    merchant_new_order,
    order_status,
    refund,
]


class _Markup(HTMLParser):
    """The elements and links an HTML part really contains, as a mail client would parse it."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.attributes: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if tag == "a" and name == "href" and value is not None:
                self.hrefs.append(value)


# ---------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "Rp0"),
        (999, "Rp999"),
        (1000, "Rp1.000"),
        (25000, "Rp25.000"),
        (1234567, "Rp1.234.567"),
        (-5000, "-Rp5.000"),
    ],
)
def test_rupiah_uses_dots_for_thousands_and_no_decimals(amount: int, shown: str) -> None:
    assert mail.rupiah(amount) == shown


def test_rupiah_refuses_a_float_because_money_is_integer_rupiah() -> None:
    with pytest.raises(TypeError):
        mail.rupiah(25000.0)  # type: ignore[arg-type]  # the wrong type, on purpose


# ---------------------------------------------------------------- each kind


def test_verification_email_greets_without_a_name_and_carries_the_link_in_both_parts() -> None:
    job = verification()

    email = mail.render(job, link=VERIFY_LINK)

    assert email.subject == "Confirm your e-mail address for Warung"
    assert email.text.startswith("Hi,\n")
    assert VERIFY_LINK in email.text
    assert "24 hours" in email.text
    assert "Hi," in email.html
    assert _Markup(email.html).hrefs == [VERIFY_LINK, VERIFY_LINK]
    assert 'href="https://app.warung.test/verify?token=abc&amp;u=1"' in email.html


def test_verification_link_valid_for_one_hour_says_hour() -> None:
    email = mail.render(verification(expires_in_hours=1), link=VERIFY_LINK)

    assert "1 hour." in email.text
    assert "1 hours" not in email.html


def test_password_reset_email_carries_the_link_and_its_lifetime() -> None:
    job = password_reset()

    email = mail.render(job, link=RESET_LINK)

    assert email.subject == "Reset your Warung password"
    assert RESET_LINK in email.text
    assert "30 minutes" in email.text
    assert "30 minutes" in email.html
    assert _Markup(email.html).hrefs == [RESET_LINK, RESET_LINK]


def test_one_time_link_jobs_carry_no_name_and_no_link_in_the_clear() -> None:
    fields = set(VerificationEmail.model_fields) | set(PasswordResetEmail.model_fields)

    assert "name" not in fields
    assert not any(field.endswith("_url") for field in fields)


def test_a_one_time_link_email_without_its_opened_link_is_not_rendered() -> None:
    with pytest.raises(ValueError, match="link"):
        mail.render(verification())


def test_invitation_email_names_the_merchant_role_link_and_lifetime() -> None:
    email = mail.render(invitation())

    assert email.subject == "You are invited to join Warung Bu Tini on Warung"
    for part in (email.text, email.html):
        assert "Warung Bu Tini" in part
        assert "as manager" in part
        assert "https://app.warung.test/invitations" in part
        assert "7 days" in part
        assert "Sign up with this e-mail address" in part
    assert _Markup(email.html).hrefs == ["https://app.warung.test/invitations"] * 2


def test_invitation_to_an_existing_account_says_sign_in_instead_of_sign_up() -> None:
    email = mail.render(invitation(has_account=True))

    assert "Hi," in email.text  # no name: the address is not known to be the account holder's
    assert "Sign in with this e-mail address" in email.text
    assert "Sign up" not in email.text + email.html


def test_an_invitation_carries_no_free_text_of_the_inviter() -> None:
    # The job has no field for a message: an inviter cannot put words into someone's inbox.
    with pytest.raises(ValueError, match="name"):
        invitation(name="Rina")
    with pytest.raises(ValueError, match="message"):
        invitation(message="Click http://evil.example to claim your prize")


def test_empty_name_greets_without_a_dangling_space() -> None:
    email = mail.render(order_status(name=""))

    assert email.text.startswith("Hi,\n")
    assert "Hi," in email.html


def test_order_paid_email_lists_each_line_and_the_price_breakdown() -> None:
    email = mail.render(order_paid())

    assert email.subject == "Payment received for your order WRG-7K4Q-2M9X from Warung Bu Tini"
    assert "Order WRG-7K4Q-2M9X from Warung Bu Tini" in email.text
    assert "Hi Budi," in email.text
    assert "2 x Nasi goreng spesial: Rp50.000" in email.text
    assert "3 x Es teh manis: Rp15.000" in email.text
    for line in (
        "Subtotal: Rp65.000",
        "Discount: -Rp6.500",
        "Delivery fee: Rp9.000",
        "Tax: Rp6.435",
        "Total paid: Rp73.935",
    ):
        assert line in email.text
    assert "2 &times; Nasi goreng spesial" in email.html
    for amount in ("Rp50.000", "Rp15.000", "Rp65.000", "-Rp6.500", "Rp9.000", "Rp6.435"):
        assert amount in email.html
    assert "Rp73.935" in email.html
    assert "Order WRG-7K4Q-2M9X" in email.html


def test_order_paid_email_without_a_discount_shows_no_discount_line() -> None:
    email = mail.render(order_paid(discount=0, tax=7150, total=81150))

    assert "Discount" not in email.text
    assert "Discount" not in email.html
    assert "Total paid: Rp81.150" in email.text


def test_merchant_new_order_email_shows_lines_total_address_and_notes() -> None:
    email = mail.render(merchant_new_order())

    assert email.subject == "New order WRG-7K4Q-2M9X for Warung Bu Tini: Rp73.935"
    assert "Order WRG-7K4Q-2M9X" in email.text
    assert "Order WRG-7K4Q-2M9X" in email.html
    assert "Hi Tini," in email.text
    assert "2 x Nasi goreng spesial: Rp50.000" in email.text
    assert "Total: Rp73.935" in email.text
    assert "Jl. Braga No. 12, Bandung 40111" in email.text
    assert "Tidak pedas, please" in email.text
    assert "Jl. Braga No. 12, Bandung 40111" in email.html
    assert "Tidak pedas, please" in email.html
    assert "Rp73.935" in email.html


def test_a_cash_on_delivery_new_order_tells_the_owner_to_collect_the_cash() -> None:
    paid = mail.render(merchant_new_order())
    cash = mail.render(merchant_new_order(payment_method="cash_on_delivery"))

    assert "new paid order" in paid.text
    assert "cash" not in paid.text
    for body in (cash.text, cash.html):
        assert "new cash-on-delivery order: collect Rp73.935 in cash at the door" in body
        assert "new paid order" not in body
    assert cash.subject == paid.subject


def test_merchant_new_order_email_without_notes_has_no_notes_section() -> None:
    email = mail.render(merchant_new_order(notes=None))

    assert "Notes" not in email.text
    assert "Notes" not in email.html


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("accepted", "accepted"),
        ("preparing", "being prepared"),
        ("out_for_delivery", "out for delivery"),
        ("delivered", "delivered"),
        ("rejected", "rejected"),
        ("cancelled", "cancelled"),
    ],
)
def test_order_status_email_names_the_status_in_words(status: str, words: str) -> None:
    email = mail.render(order_status(status=status))

    assert email.subject == f"Your order WRG-7K4Q-2M9X from Warung Bu Tini is {words}"
    assert f"Your order WRG-7K4Q-2M9X from Warung Bu Tini is now {words}." in email.text
    assert f"<strong>{words}</strong>" in email.html
    assert "Your order WRG-7K4Q-2M9X from" in email.html
    assert "_" not in email.subject


def test_order_status_email_shows_the_reason_when_there_is_one() -> None:
    email = mail.render(order_status(status="rejected", reason="Sold out of rice today"))

    assert "Reason given: Sold out of rice today" in email.text
    assert "Sold out of rice today" in email.html
    assert "refunded" in email.text


def test_order_status_email_without_reason_has_no_reason_line() -> None:
    email = mail.render(order_status(status="delivered", reason=None))

    assert "Reason" not in email.text
    assert "Reason" not in email.html


@pytest.mark.parametrize("status", ["paid", "pending_payment", "ready_for_pickup"])
def test_a_status_without_its_own_sentence_leaves_no_empty_paragraph(status: str) -> None:
    email = mail.render(order_status(status=status))

    assert "\n\n\n" not in email.text
    assert '<p style="margin:0 0 16px 0;"></p>' not in email.html


def test_an_unknown_status_still_reads_as_words() -> None:
    assert mail.status_words("ready_for_pickup") == "ready for pickup"


def test_refund_email_states_amount_order_and_reason() -> None:
    email = mail.render(refund())

    assert email.subject == "Refund of Rp73.935 for your order WRG-7K4Q-2M9X"
    assert "We refunded Rp73.935 for your order WRG-7K4Q-2M9X from Warung Bu Tini." in email.text
    assert "for your order WRG-7K4Q-2M9X from" in email.html
    assert "Reason: Rejected by the merchant" in email.text
    assert "Rp73.935" in email.html
    assert "Rejected by the merchant" in email.html


def test_refund_email_without_reason_has_no_reason_line() -> None:
    email = mail.render(refund(reason=None))

    assert "Reason" not in email.text
    assert "Reason" not in email.html


ORDER_KINDS = [order_paid, merchant_new_order, order_status, refund]


@pytest.mark.parametrize("make", ORDER_KINDS, ids=lambda make: make.__name__)
def test_every_order_email_names_the_order_by_its_number_never_its_id(make: Any) -> None:
    email = mail.render(make())

    for part in (email.subject, email.text, email.html):
        assert NUMBER in part
        assert ORDER_ID not in part


@pytest.mark.parametrize("make", ORDER_KINDS, ids=lambda make: make.__name__)
def test_an_order_placed_before_numbers_existed_is_named_by_its_id(make: Any) -> None:
    email = mail.render(make(order_number=None))

    for part in (email.subject, email.text, email.html):
        assert ORDER_ID in part
        assert "None" not in part


@pytest.mark.parametrize("make", ORDER_KINDS, ids=lambda make: make.__name__)
def test_a_job_queued_before_numbers_existed_still_renders(make: Any) -> None:
    queued = make().model_dump(mode="json", exclude={"order_number"})

    email = mail.render(type(make()).model_validate(queued))

    assert ORDER_ID in email.subject


@pytest.mark.parametrize("make", ALL_KINDS, ids=lambda make: make.__name__)
def test_every_kind_renders_a_one_line_subject_and_a_complete_html_document(make: Any) -> None:
    job = make()
    email = mail.render(job, link=VERIFY_LINK if isinstance(job, OneTimeLinkEmail) else None)

    assert email.subject
    assert "\n" not in email.subject
    assert email.text.strip()
    assert "\n\n\n" not in email.text
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert email.html.rstrip().endswith("</html>")
    assert f"<title>{email.subject}</title>" in email.html
    assert "Please do not reply to this e-mail." in email.html
    markup = _Markup(email.html)
    assert not markup.tags & {"img", "link", "script", "style", "iframe"}


# ---------------------------------------------------------------- user text stays text


HOSTILE_FIELDS = [
    pytest.param(order_paid, "name", id="order_paid-name"),
    pytest.param(order_paid, "merchant_name", id="order_paid-merchant_name"),
    pytest.param(merchant_new_order, "notes", id="merchant_new_order-notes"),
    pytest.param(merchant_new_order, "merchant_name", id="merchant_new_order-merchant_name"),
    pytest.param(merchant_new_order, "delivery_address", id="merchant_new_order-address"),
    pytest.param(order_status, "reason", id="order_status-reason"),
    pytest.param(order_status, "merchant_name", id="order_status-merchant_name"),
    pytest.param(refund, "reason", id="refund-reason"),
    pytest.param(invitation, "merchant_name", id="invitation-merchant_name"),
]


@pytest.mark.parametrize(("make", "field"), HOSTILE_FIELDS)
def test_script_tag_in_user_text_is_escaped_in_html_and_literal_in_text(
    make: Any, field: str
) -> None:
    email = mail.render(make(**{field: SCRIPT}))

    assert SCRIPT not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "script" not in _Markup(email.html).tags
    assert SCRIPT in email.text


@pytest.mark.parametrize(("make", "field"), HOSTILE_FIELDS)
def test_attribute_breakout_in_user_text_never_becomes_an_element(make: Any, field: str) -> None:
    email = mail.render(make(**{field: IMG}))

    assert IMG not in email.html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in email.html
    markup = _Markup(email.html)
    assert "img" not in markup.tags
    assert "onerror" not in markup.attributes
    assert IMG in email.text


def test_order_line_names_are_escaped_in_html() -> None:
    line = EmailLine(name=SCRIPT, quantity=1, line_total=1000)

    email = mail.render(order_paid(items=[line]))

    assert "&lt;script&gt;" in email.html
    assert "script" not in _Markup(email.html).tags
    assert f"1 x {SCRIPT}: Rp1.000" in email.text


def test_a_newline_in_user_text_cannot_add_a_mail_header_through_the_subject() -> None:
    email = mail.render(order_paid(merchant_name="Warung\r\nBcc: victim@example.com"))

    assert "\r" not in email.subject
    assert "\n" not in email.subject


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/verify",
        "/verify?token=abc",
        "https:///no-host",
        "https://app.warung.test/verify?token=abc\n",
    ],
)
def test_a_link_that_is_not_absolute_http_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="link"):
        mail.render(verification(), link=url)
    with pytest.raises(ValueError, match="link"):
        mail.render(password_reset(), link=url)


def test_a_plain_http_link_is_allowed_for_the_local_stage() -> None:
    email = mail.render(verification(), link="http://127.0.0.1:3000/v1/auth/verify?t=1")

    assert "http://127.0.0.1:3000/v1/auth/verify?t=1" in email.text


# ---------------------------------------------------------------- templates and environment


def test_every_email_job_type_has_its_three_templates() -> None:
    email_types = [t for t, model in JOB_PAYLOADS.items() if issubclass(model, EmailJob)]

    assert sorted(email_types) == sorted(mail.EMAIL_KINDS)
    for job_type in email_types:
        kind = mail.email_kind(job_type)
        for part in ("subject", "txt", "html"):
            assert (mail.TEMPLATES_DIR / f"{kind}.{part}.j2").is_file()


def test_a_job_type_without_templates_is_refused() -> None:
    with pytest.raises(ValueError, match=r"webhook\.deliver"):
        mail.email_kind("webhook.deliver")


def test_a_template_naming_a_variable_the_job_lacks_fails_instead_of_rendering_blank() -> None:
    from jinja2 import UndefinedError

    template = mail.template_environment().from_string("Hi {{ name }}, your {{ nickname }}")

    with pytest.raises(UndefinedError, match="nickname"):
        template.render(name="Siti")


def test_the_environment_is_built_once_and_reused() -> None:
    assert mail.template_environment() is mail.template_environment()


def test_html_templates_escape_and_text_templates_do_not() -> None:
    environment = mail.template_environment()

    # A template module holds the macros it exports in its namespace.
    html_greeting = vars(environment.get_template("_macros.html.j2").module)["greeting"]
    text_greeting = vars(environment.get_template("_macros.txt.j2").module)["greeting"]

    assert "Hi &lt;b&gt;," in str(html_greeting("<b>"))
    assert str(text_greeting("<b>")) == "Hi <b>,\n"


def test_importing_the_module_does_not_import_jinja2() -> None:
    probe = (
        "import sys; import mail; "
        "assert 'jinja2' not in sys.modules, 'jinja2 imported at module import'"
    )
    env_path = [str(WORKER), str(ROOT / "layers" / "common")]

    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": ":".join(env_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- sending


class _RecordingSes:
    """Stands in for the SESv2 client: keeps the request, answers with a message id."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"MessageId": "0100018f-msg-id"}


def test_send_passes_both_parts_in_utf8_to_the_recipient_and_returns_the_message_id() -> None:
    ses = _RecordingSes()
    job = order_paid(name="Budi Santoso — Café")
    rendered = mail.render(job)

    message_id = mail.send(ses, sender="Warung <orders@warung.test>", job=job, rendered=rendered)

    assert message_id == "0100018f-msg-id"
    (request,) = ses.requests
    assert request["FromEmailAddress"] == "Warung <orders@warung.test>"
    assert request["Destination"] == {"ToAddresses": ["budi@example.com"]}
    simple = request["Content"]["Simple"]
    assert simple["Subject"] == {"Data": rendered.subject, "Charset": "UTF-8"}
    assert simple["Body"]["Text"] == {"Data": rendered.text, "Charset": "UTF-8"}
    assert simple["Body"]["Html"] == {"Data": rendered.html, "Charset": "UTF-8"}
    assert {"Name": "kind", "Value": "order_paid"} in request["EmailTags"]
    assert all(tag["Name"] != "job_id" for tag in request["EmailTags"])


def test_send_tags_the_message_with_the_job_id_in_characters_ses_accepts() -> None:
    ses = _RecordingSes()
    job = refund()

    mail.send(
        ses,
        sender="orders@warung.test",
        job=job,
        rendered=mail.render(job),
        idempotency_token="JOB#01JABC/éx.y",
    )

    tags = {tag["Name"]: tag["Value"] for tag in ses.requests[0]["EmailTags"]}
    assert tags["job_id"] == "JOB_01JABC__x_y"


def test_ses_tag_values_are_cut_to_256_characters() -> None:
    assert mail.ses_tag_value("a" * 300) == "a" * 256
