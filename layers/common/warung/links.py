"""One-time links (e-mail verification, password reset) sealed for the e-mail job that carries them.

A link holds a raw single-use token, and the job that carries it to the worker rests in the
outbox item (a week), the table's stream, the jobs queue and perhaps the dead-letter queue
(two weeks) and the admin's list of failed jobs. So the auth function seals the link and only
the worker opens it, right before it renders the e-mail: nowhere but in the e-mail itself is
the token readable. The database keeps the token's digest only.

A sealed link is, in URL-safe base64 without padding::

    version byte | nonce (96 bits, random) | AES-256-GCM(padded content) with its 128-bit tag

Associated data binds it to its job (version, job id, job type, recipient): a sealed link
copied into another job, or sent to another address, does not open. The key is derived
(HKDF-SHA256, a fixed context) from the link secret in Secrets Manager, which only the auth
function and the worker may read. Replacing that secret makes every link in flight unopenable
(those jobs are dead-lettered; the person asks for a new link).

The content is either a link or *no account* (a request for an address that has no account,
or none that may receive the link): both are padded to the same size, so a job does not tell
from its length which one it is.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from warung.settings import get_settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = 1
_HEADER = bytes([_VERSION])
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PADDED_BYTES = 512  # a link is well under this; every sealed content is this long
_LINK, _NO_ACCOUNT = b"L", b"N"


class UnopenableLink(ValueError):
    """A sealed link that this key cannot open: tampered, of another job, or sealed under a
    link secret that has since been replaced."""


@dataclass(frozen=True)
class LinkJob:
    """What a sealed link is bound to: the job that carries it."""

    job_id: str
    job_type: str
    recipient: str

    def associated_data(self) -> bytes:
        """The bytes the seal authenticates along with the link."""
        parts = (self.job_id, self.job_type, self.recipient.lower())
        return _HEADER + b"\x00".join(part.encode() for part in parts)


def seal_link(url: str | None, job: LinkJob, key: bytes | None = None) -> str:
    """``url`` sealed for ``job`` (``None``: *no account*). ``key`` is the link secret (by
    default the one in Secrets Manager)."""
    content = _NO_ACCOUNT if url is None else _LINK + url.encode()
    if len(content) > _PADDED_BYTES or b"\x00" in content:
        raise ValueError("a one-time link must be a short URL")
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(key or _link_secret()).encrypt(
        nonce, content.ljust(_PADDED_BYTES, b"\x00"), job.associated_data()
    )
    return base64.urlsafe_b64encode(_HEADER + nonce + sealed).decode().rstrip("=")


def open_link(sealed: str, job: LinkJob, key: bytes | None = None) -> str | None:
    """The link inside ``sealed`` (``None`` for *no account*); :class:`UnopenableLink` when
    it was not sealed for ``job`` under this key."""
    try:
        blob = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except (binascii.Error, ValueError):
        raise UnopenableLink("not a sealed link") from None
    if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES or blob[:1] != _HEADER:
        raise UnopenableLink("not a sealed link of this version")
    from cryptography.exceptions import InvalidTag

    nonce, sealed_bytes = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        padded = _cipher(key or _link_secret()).decrypt(nonce, sealed_bytes, job.associated_data())
    except InvalidTag:
        raise UnopenableLink("the link does not open with this key for this job") from None
    content = padded.rstrip(b"\x00")
    if content == _NO_ACCOUNT:
        return None
    if not content.startswith(_LINK):
        raise UnopenableLink("unknown content")
    return content[len(_LINK) :].decode()


def _link_secret() -> bytes:
    from warung.secrets import get_secret  # only the routes and jobs of one-time links

    arn = get_settings().link_secret_arn
    if not arn:
        raise RuntimeError("LINK_SECRET_ARN is not configured")
    return get_secret(arn).encode()


@lru_cache(maxsize=4)  # one per secret: a replaced secret gets its own
def _cipher(secret: bytes) -> AESGCM:
    # Imported here: only the routes that send one-time links pay for it.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"warung one-time link v1"
    ).derive(secret)
    return AESGCM(derived)
