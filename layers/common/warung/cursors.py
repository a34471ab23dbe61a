"""Opaque pagination cursors: encrypted, authenticated, bound to their list, and short.

A cursor carries where the next page starts: DynamoDB's ``LastEvaluatedKey``, or a
listing's own state made of such keys (one per merged partition) and numbers (an offset).
A client can neither read nor change it. It is, in URL-safe base64 without padding::

    version byte | AES-SIV(packed position; associated data: version byte, scope)

AES-SIV (RFC 5297, AES-256) encrypts and authenticates in one step, deterministically: the
same position of the same list gives the same cursor, and no nonce has to be carried. Its
key is derived (HKDF-SHA256) from the cursor secret in Secrets Manager. The *scope* of the
list (route, filters, caller: :func:`list_scope`) is not in the cursor: it is associated
data, so a cursor of another list or of another caller fails authentication and is a
``400``, like a forged, truncated or garbled one.

The position is packed before it is encrypted (see *Packing* below) so that a cursor is
short and carries nothing the list already knows. Changing how positions are packed (the
word list included) means a new ``_VERSION``; a cursor of an older version still reads
with that version's word list.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from warung.errors import BadRequest, FieldError
from warung.ids import id_bytes, id_from_bytes, rfc3339, rfc3339_precise
from warung.settings import get_settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

# 2: the audit table's `action_pk` joined the word list; 3: the main table's `gsi4pk` and
# `gsi4sk` (the expiry worklist, docs/decisions/0027)
_VERSION = 3
_HEADER = bytes([_VERSION])
_SIV_BYTES = 16  # the synthetic IV that authenticates the cursor


def encode_cursor(
    last_key: Mapping[str, Any] | None, scope: str, key: bytes | None = None
) -> str | None:
    """The cursor for the page after ``last_key`` in the list ``scope``, or ``None`` when
    there is none. ``key`` is the cursor secret (by default the one in Secrets Manager)."""
    if not last_key:
        return None
    packed = _pack(last_key, scope)
    sealed = _cipher(key or _cursor_secret()).encrypt(packed, [_HEADER, scope.encode()])
    return base64.urlsafe_b64encode(_HEADER + sealed).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, scope: str, key: bytes | None = None
) -> dict[str, Any] | None:
    """The position inside ``cursor`` (what :func:`encode_cursor` was given); ``None`` for
    no cursor, ``400`` when it is not one of ours for the list ``scope``."""
    if cursor is None or cursor == "":
        return None
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if len(blob) < 1 + _SIV_BYTES or blob[0] not in _WORDS_OF_VERSION:
        raise _invalid()
    from cryptography.exceptions import InvalidTag

    try:
        packed = _cipher(key or _cursor_secret()).decrypt(blob[1:], [blob[:1], scope.encode()])
    except InvalidTag:
        raise _invalid() from None
    try:
        position = _unpack(packed, scope, _WORDS_OF_VERSION[blob[0]])
    except (ValueError, IndexError, OverflowError, zlib.error):  # authentic yet unreadable
        raise _invalid() from None
    if not isinstance(position, dict):
        raise _invalid()
    return position


def list_scope(route: str, caller: str | None = None, **filters: Any) -> str:
    """A stable description of one list: the same filters and caller give the same scope."""
    parts = [route, caller or "-"] + [f"{k}={filters[k]}" for k in sorted(filters)]
    return "|".join(parts)


def _cursor_secret() -> bytes:
    from warung.secrets import get_secret  # only list endpoints need it

    settings = get_settings()
    if not settings.cursor_secret_arn:
        raise RuntimeError("CURSOR_SECRET_ARN is not configured")
    return get_secret(settings.cursor_secret_arn).encode()


@lru_cache(maxsize=4)  # one per secret: a rotated secret gets its own
def _cipher(secret: bytes) -> AESSIV:
    # Imported here: only list routes pay for cryptography's AEAD and KDF modules.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=None, info=b"warung pagination cursor v1"
    ).derive(secret)
    return AESSIV(derived)


def _invalid() -> BadRequest:
    return BadRequest(
        "The cursor is not valid for this list.",
        errors=[FieldError("cursor", "Invalid or foreign cursor; start again without it.")],
    )


# ---------------------------------------------------------------- packing
#
# A position is any JSON-like value (maps with text keys, lists, text, integers, booleans,
# null, bytes) whose DynamoDB attribute values ({"S": ...}, {"N": ...}, {"B": ...}) take one
# byte of type. Each value starts with one tag byte. Text is split at "#" (the separator of
# every key in warung.store) into pieces, each one header byte (0x80: another piece follows)
# then, unless the header is a reference, a literal:
#
# * a reference to a piece the reader already knows: the key attribute names of the tables
#   (_WORDS), the words of the list's scope (split at "|", "=", "#", ",", " " and "/": its
#   caller and its filters, so that the caller's id in CUSTOMER#<caller> is one byte), and
#   every piece met earlier in the position (an item's id is in its table key and again in
#   its index key);
# * an id made by warung.ids.new_id: 16 bytes instead of 26 characters;
# * a timestamp as warung.ids writes them: seconds (or microseconds) since 1970;
# * ASCII digits (zero-padded prices): their count and their value;
# * anything else: its UTF-8 bytes.
#
# So any LastEvaluatedKey packs; one of an unexpected shape only takes more bytes. When
# raw DEFLATE makes the packed bytes shorter (the structure of several keys repeats in a
# merged listing's position), they are deflated behind one more tag.

# The key attribute names of the tables in template.yaml (main, audit, idempotency), in a
# fixed order: a reference is an index into this list. Append only, with a new _VERSION
# (cursors of an older version still read, with the list of their version).
_WORDS_V1 = (
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
    "gsi2pk",
    "gsi2sk",
    "gsi3pk",
    "gsi3sk",
    "actor_pk",
    "resource_pk",
    "id",
)
_WORDS_V2 = (*_WORDS_V1, "action_pk")
_WORDS = (*_WORDS_V2, "gsi4pk", "gsi4sk")
_WORDS_OF_VERSION = {1: _WORDS_V1, 2: _WORDS_V2, _VERSION: _WORDS}

# Value tags.
_NULL, _FALSE, _TRUE, _INT, _NEGATIVE, _TEXT, _BYTES, _LIST, _MAP = range(9)
_ATTRIBUTE_TAGS = {"S": 9, "N": 10, "B": 11}  # {"S": text}, {"N": text}, {"B": bytes}
_DEFLATED = 12  # first byte only: the rest is a packed position, raw DEFLATE
_MAX_INFLATED = 16 * 1024
_ATTRIBUTE_OF_TAG = {tag: name for name, tag in _ATTRIBUTE_TAGS.items()}

# Piece headers (the low 7 bits; 0x80 says another piece follows after a "#").
_MORE = 0x80
_NEAR_REFERENCES = 0x78  # headers below this refer to that piece directly
_FAR_REFERENCE, _ID, _SECONDS, _MICROSECONDS, _DIGITS, _UTF8 = range(0x78, 0x7E)
_MAX_DIGITS = 38
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCOPE_SEPARATORS = str.maketrans("=#, /", "|||||")


def _pack(position: Mapping[str, Any], scope: str) -> bytes:
    packed = _Packer(scope).position(position)
    deflating = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = deflating.compress(packed) + deflating.flush()
    return bytes([_DEFLATED]) + deflated if 1 + len(deflated) < len(packed) else packed


def _unpack(data: bytes, scope: str, words: tuple[str, ...] = _WORDS) -> Any:
    if data[:1] == bytes([_DEFLATED]):
        inflating = zlib.decompressobj(-15)
        data = inflating.decompress(data[1:], _MAX_INFLATED)
        if not inflating.eof or inflating.unconsumed_tail:
            raise ValueError("not one deflated position")
    return _Unpacker(scope, data, words).position()


def _attribute_kind(value: Mapping[str, Any]) -> str | None:
    """``S``, ``N`` or ``B`` when ``value`` is a DynamoDB attribute value of that type."""
    if len(value) != 1:
        return None
    ((name, inner),) = value.items()
    wanted = bytes if name == "B" else str
    return str(name) if name in _ATTRIBUTE_TAGS and isinstance(inner, wanted) else None


class _Pieces:
    """The pieces both sides know, in the same order: words, scope words, pieces met."""

    def __init__(self, scope: str, words: tuple[str, ...] = _WORDS) -> None:
        self.known: list[str] = []
        self.index: dict[str, int] = {}
        for word in (*words, *scope.translate(_SCOPE_SEPARATORS).split("|")):
            self.add(word)

    def add(self, piece: str) -> None:
        if piece not in self.index:
            self.index[piece] = len(self.known)
            self.known.append(piece)


class _Packer:
    def __init__(self, scope: str) -> None:
        self.pieces = _Pieces(scope)
        self.out = bytearray()

    def position(self, value: Any) -> bytes:
        self.value(value)
        return bytes(self.out)

    def value(self, value: Any) -> None:
        if value is None:
            self.out.append(_NULL)
        elif isinstance(value, bool):
            self.out.append(_TRUE if value else _FALSE)
        elif isinstance(value, int):
            self.out.append(_INT if value >= 0 else _NEGATIVE)
            self.number(value if value >= 0 else -1 - value)
        elif isinstance(value, str):
            self.out.append(_TEXT)
            self.text(value)
        elif isinstance(value, bytes | bytearray):
            self.out.append(_BYTES)
            self.blob(bytes(value))
        elif isinstance(value, list | tuple):
            self.out.append(_LIST)
            self.number(len(value))
            for each in value:
                self.value(each)
        elif isinstance(value, Mapping):
            self.mapping(value)
        else:
            raise TypeError(f"a cursor cannot carry {type(value).__name__}")

    def mapping(self, value: Mapping[str, Any]) -> None:
        kind = _attribute_kind(value)
        if kind == "B":
            self.out.append(_ATTRIBUTE_TAGS[kind])
            self.blob(value[kind])
            return
        if kind is not None:
            self.out.append(_ATTRIBUTE_TAGS[kind])
            self.text(value[kind])
            return
        self.out.append(_MAP)
        self.number(len(value))
        for name, inner in value.items():
            self.text(str(name))
            self.value(inner)

    def text(self, value: str) -> None:
        pieces = value.split("#")
        for n, piece in enumerate(pieces):
            self.piece(piece, _MORE if n < len(pieces) - 1 else 0)

    def piece(self, piece: str, more: int) -> None:
        known = self.pieces.index.get(piece)
        if known is not None and known < _NEAR_REFERENCES:
            self.out.append(known | more)
        elif known is not None:
            self.out.append(_FAR_REFERENCE | more)
            self.number(known)
        else:
            self.literal(piece, more)
            self.pieces.add(piece)

    def literal(self, piece: str, more: int) -> None:
        as_id = id_bytes(piece)
        if as_id is not None:
            self.out.append(_ID | more)
            self.out += as_id
            return
        micros = _time_micros(piece)
        if micros is not None and len(piece) == 20:
            self.out.append(_SECONDS | more)
            self.number(micros // 1_000_000)
        elif micros is not None:
            self.out.append(_MICROSECONDS | more)
            self.number(micros)
        elif piece.isascii() and piece.isdigit() and len(piece) <= _MAX_DIGITS:
            self.out.append(_DIGITS | more)
            self.number(len(piece))
            self.number(int(piece))
        else:
            self.out.append(_UTF8 | more)
            self.blob(piece.encode())

    def blob(self, data: bytes) -> None:
        self.number(len(data))
        self.out += data

    def number(self, value: int) -> None:
        """An unsigned integer, 7 bits a byte, least significant first (LEB128)."""
        while value >= 0x80:
            self.out.append(value & 0x7F | 0x80)
            value >>= 7
        self.out.append(value)


def _time_micros(piece: str) -> int | None:
    """Microseconds since 1970 of a timestamp written exactly as warung.ids writes them."""
    if len(piece) not in (20, 27) or piece[-1] != "Z" or piece[10:11] != "T":
        return None
    try:
        moment = datetime.fromisoformat(piece)
    except ValueError:
        return None
    if moment.tzinfo is None or moment < _EPOCH:
        return None
    if (rfc3339 if len(piece) == 20 else rfc3339_precise)(moment) != piece:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


class _Unpacker:
    def __init__(self, scope: str, data: bytes, words: tuple[str, ...] = _WORDS) -> None:
        self.pieces = _Pieces(scope, words)
        self.data = data
        self.at = 0

    def position(self) -> Any:
        value = self.value()
        if self.at != len(self.data):
            raise ValueError("trailing bytes")
        return value

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise ValueError("truncated")
        self.at += count
        return self.data[self.at - count : self.at]

    def value(self) -> Any:
        tag = self.byte()
        if tag in (_NULL, _FALSE, _TRUE):
            return {_NULL: None, _FALSE: False, _TRUE: True}[tag]
        if tag == _INT:
            return self.number()
        if tag == _NEGATIVE:
            return -1 - self.number()
        if tag == _TEXT:
            return self.text()
        if tag == _BYTES:
            return self.take(self.number())
        if tag == _LIST:
            return [self.value() for _ in range(self.number())]
        if tag == _MAP:
            found: dict[str, Any] = {}
            for _ in range(self.number()):
                name = self.text()
                found[name] = self.value()
            return found
        kind = _ATTRIBUTE_OF_TAG.get(tag)
        if kind is None:
            raise ValueError(f"unknown tag {tag}")
        return {kind: self.take(self.number()) if kind == "B" else self.text()}

    def text(self) -> str:
        pieces: list[str] = []
        while True:
            header = self.byte()
            pieces.append(self.piece(header & ~_MORE))
            if not header & _MORE:
                return "#".join(pieces)

    def piece(self, kind: int) -> str:
        if kind < _NEAR_REFERENCES:
            return self.pieces.known[kind]
        if kind == _FAR_REFERENCE:
            return self.pieces.known[self.number()]
        if kind == _ID:
            piece = id_from_bytes(self.take(16))
        elif kind == _SECONDS:
            piece = rfc3339(_EPOCH + timedelta(seconds=self.number()))
        elif kind == _MICROSECONDS:
            piece = rfc3339_precise(_EPOCH + timedelta(microseconds=self.number()))
        elif kind == _DIGITS:
            width = self.number()
            piece = f"{self.number():0{width}d}"
        elif kind == _UTF8:
            piece = self.take(self.number()).decode()
        else:
            raise ValueError(f"unknown piece {kind}")
        self.pieces.add(piece)
        return piece

    def number(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
