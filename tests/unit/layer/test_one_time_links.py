"""Sealed one-time links: only the key holder reads them, and only for the job they were
sealed for."""

from __future__ import annotations

import base64

import pytest

from warung.links import LinkJob, UnopenableLink, open_link, seal_link

KEY = b"a-link-secret-of-the-stack-0123456789abcdef"
URL = "https://app.warung.test/verify-email?token=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg"
JOB = LinkJob("01JEXAMPLEJOB0000000000001", "email.verification", "siti@example.com")


def test_a_sealed_link_does_not_show_its_token_and_opens_to_the_link() -> None:
    sealed = seal_link(URL, JOB, key=KEY)

    assert "token" not in sealed
    assert URL.rsplit("=", 1)[1] not in sealed
    assert open_link(sealed, JOB, key=KEY) == URL


def test_sealing_twice_gives_two_different_seals_of_the_same_link() -> None:
    first, second = seal_link(URL, JOB, key=KEY), seal_link(URL, JOB, key=KEY)

    assert first != second
    assert open_link(first, JOB, key=KEY) == open_link(second, JOB, key=KEY) == URL


def test_no_account_opens_to_none_and_looks_like_a_link_from_outside() -> None:
    nobody = seal_link(None, JOB, key=KEY)

    assert open_link(nobody, JOB, key=KEY) is None
    assert len(nobody) == len(seal_link(URL, JOB, key=KEY))


@pytest.mark.parametrize(
    "other",
    [
        LinkJob("01JEXAMPLEJOB0000000000002", JOB.job_type, JOB.recipient),
        LinkJob(JOB.job_id, "email.password_reset", JOB.recipient),
        LinkJob(JOB.job_id, JOB.job_type, "mallory@example.com"),
    ],
    ids=["another-job", "another-type", "another-recipient"],
)
def test_a_link_sealed_for_one_job_does_not_open_for_another(other: LinkJob) -> None:
    sealed = seal_link(URL, JOB, key=KEY)

    with pytest.raises(UnopenableLink):
        open_link(sealed, other, key=KEY)


def test_a_link_sealed_under_a_replaced_secret_does_not_open() -> None:
    sealed = seal_link(URL, JOB, key=KEY)

    with pytest.raises(UnopenableLink):
        open_link(sealed, JOB, key=b"the-new-secret-after-a-rotation-0123456789")


@pytest.mark.parametrize("sealed", ["", "not base64!", "AQ", "Ag" + "A" * 60])
def test_garbage_is_not_a_sealed_link(sealed: str) -> None:
    with pytest.raises(UnopenableLink):
        open_link(sealed, JOB, key=KEY)


def test_a_changed_byte_is_refused() -> None:
    blob = bytearray(base64.urlsafe_b64decode(seal_link(URL, JOB, key=KEY) + "=="))
    blob[20] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")

    with pytest.raises(UnopenableLink):
        open_link(tampered, JOB, key=KEY)


def test_a_link_longer_than_a_link_can_be_is_refused_when_sealing() -> None:
    with pytest.raises(ValueError, match="short URL"):
        seal_link("https://app.warung.test/?" + "x" * 600, JOB, key=KEY)
