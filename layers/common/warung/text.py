"""Text as the indexes compare it: case-, accent- and punctuation-insensitive."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: NFKD, combining marks dropped, casefolded,
    every character that is not a letter or a digit turned into a space.

    ``"  NASI-Goréng!! "`` → ``"nasi goreng"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    # Casefolding can itself produce decomposable characters (e.g. "ǰ" folds to j + caron):
    # decompose and strip once more so the result does not depend on the order.
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
    )
    spaced = "".join(ch if ch.isalnum() else " " for ch in folded)
    return " ".join(spaced.split())


# Characters that end a line or steer how text is laid out: a name that holds one could
# start a new paragraph of its own in an e-mail, or show its words in another order.
_LINE_BREAKS = frozenset("\u2028\u2029\x85")
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def one_line(text: str) -> str:
    """``text`` itself when it is one line without control characters; ``ValueError`` else.

    Names and notes that people type reach e-mails sent from Warung's own address, so they
    may not carry line breaks (``"Bob\\nClick http://..."`` would read as Warung's words),
    tabs, other C0/C1 control characters, or bidirectional overrides.
    """
    for char in text:
        if unicodedata.category(char) == "Cc" or char in _LINE_BREAKS:
            raise ValueError("must be one line, without line breaks or control characters")
        if char in _BIDI_CONTROLS:
            raise ValueError("must not contain text-direction control characters")
    return text
