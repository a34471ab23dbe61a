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
