"""Word-prefix product search, case- and accent-insensitive (``GET /v1/products?q=``).

"nasi gor" finds "Nasi Goreng Spesial" and "NASI GORÉNG" but not "Nasi Uduk": every query
word must begin some word of the name.

Write path: a product's name is turned into :func:`index_prefixes`; each prefix is one index
item ``pk = SEARCH#<prefix>``, ``sk = <product id>``, written in the product's transaction.
Read path: :func:`query_terms` of ``q``; one Query on the partition of
:func:`lookup_term` (the longest term, cut to ``MAX_PREFIX_LEN``); the other terms (and the
full length of the lookup term) are checked in memory by :func:`matches`; results are
ordered by :func:`relevance` when ``sort=relevance``.
"""

from __future__ import annotations

from warung.text import normalise

MIN_PREFIX_LEN = 2
MAX_PREFIX_LEN = 12
# At most this many index items per product name. A create writes every one of them in the
# product's transaction (two write units each, as transactional writes cost double) and a
# rename deletes the old ones and puts the new ones: 2 x 40 + the product, its audit entry
# and its outbox job stays under the 100 actions one TransactWriteItems allows. Names are at
# most 120 characters; a typical one ("Nasi Goreng Spesial Telur") needs 18.
MAX_PREFIXES_PER_NAME = 40


def words(text: str) -> list[str]:
    """The normalised words of ``text``, each once, in order of first appearance."""
    return list(dict.fromkeys(normalise(text).split()))


def _word_prefixes(word: str, min_len: int, max_len: int) -> list[str]:
    return [word[:n] for n in range(min_len, min(len(word), max_len) + 1)]


def index_prefixes(
    name: str, *, min_len: int = MIN_PREFIX_LEN, max_len: int = MAX_PREFIX_LEN
) -> set[str]:
    """Every prefix of ``min_len`` to ``max_len`` characters of every word of ``name``: the
    ``SEARCH#<prefix>`` items the write path stores for a product.

    At most ``MAX_PREFIXES_PER_NAME``: words are taken in order, each with all its prefixes
    or not at all, and a word whose new prefixes would pass the cap is skipped (a shorter
    later one may still fit). A word is therefore either findable by every prefix a query
    can look up, or only through another word of the query; never by "nasi" but not "nas".
    Words shorter than ``min_len`` are not indexed.
    """
    if not 1 <= min_len <= max_len:
        raise ValueError("prefix lengths must satisfy 1 <= min_len <= max_len")
    prefixes: set[str] = set()
    for word in words(name):
        new = set(_word_prefixes(word, min_len, max_len)) - prefixes
        if len(prefixes) + len(new) <= MAX_PREFIXES_PER_NAME:
            prefixes |= new
    return prefixes


def query_terms(q: str) -> list[str]:
    """The normalised words of a query, each once, in order: the full words, which
    :func:`matches` filters by; :func:`lookup_term` cuts the one it looks up to
    ``MAX_PREFIX_LEN``."""
    return words(q)


def lookup_term(terms: list[str], *, min_len: int = MIN_PREFIX_LEN) -> str:
    """The index partition to Query (``SEARCH#<returned value>``): the longest term, as the
    most selective, cut to ``MAX_PREFIX_LEN`` (the first of equally long ones). The other
    terms filter in memory.

    ``ValueError`` when no term has ``min_len`` characters: such a query cannot use the
    index (the handler answers 422).
    """
    usable = [term for term in terms if len(term) >= min_len]
    if not usable:
        raise ValueError(f"q needs at least one word of {min_len} or more letters or digits")
    longest = max(usable, key=len)  # max keeps the first of equal lengths
    return longest[:MAX_PREFIX_LEN]


def matches(name: str, terms: list[str]) -> bool:
    """True when every term begins some word of ``name`` (terms are normalised words, as
    :func:`query_terms` returns; no terms matches everything)."""
    name_words = words(name)
    return all(any(word.startswith(term) for word in name_words) for term in terms)


def relevance(name: str, terms: list[str]) -> tuple[int, int, str, str]:
    """Sort key for ``sort=relevance`` (ascending order puts the best first):

    1. more words of the name begun by some term first (``-count``);
    2. then more terms that are a whole word of the name (for ``"nasi"``, "Nasi Uduk"
       comes before "Nasional Kopi", which the term only begins);
    3. then the normalised name, alphabetically, and the name itself, so the order is total
       and stable across pages.
    """
    name_words = words(name)
    matched = sum(1 for word in name_words if any(word.startswith(t) for t in terms))
    exact = sum(1 for term in terms if term in name_words)
    return (-matched, -exact, normalise(name), name)
