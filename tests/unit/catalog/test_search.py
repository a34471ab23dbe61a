"""Word-prefix product search (``GET /v1/products?q=``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

# The catalog's own module, loaded without leaving functions/catalog on the import path.
from catalog.rules import search
from warung.text import normalise

MAX_PREFIX_LEN = search.MAX_PREFIX_LEN
MAX_PREFIXES_PER_NAME = search.MAX_PREFIXES_PER_NAME
index_prefixes = search.index_prefixes
lookup_term = search.lookup_term
matches = search.matches
query_terms = search.query_terms
relevance = search.relevance
words = search.words


def _found(q: str, names: list[str]) -> list[str]:
    """What the read path returns for ``q``: the names indexed under the lookup partition
    that the other terms also match, in relevance order."""
    terms = query_terms(q)
    partition = lookup_term(terms)
    hits = [n for n in names if partition in index_prefixes(n) and matches(n, terms)]
    return sorted(hits, key=lambda n: relevance(n, terms))


# --- the documented example --------------------------------------------------------------------


def test_nasi_gor_finds_both_spellings_of_nasi_goreng_but_not_nasi_uduk() -> None:
    names = ["Nasi Goreng Spesial", "NASI GORÉNG", "Nasi Uduk"]
    assert set(_found("nasi gor", names)) == {"Nasi Goreng Spesial", "NASI GORÉNG"}
    for name in names[:2]:
        assert matches(name, query_terms("nasi gor"))
    assert not matches("Nasi Uduk", query_terms("nasi gor"))


def test_a_term_must_begin_a_word_not_sit_inside_one() -> None:
    assert not matches("Nasi Goreng", query_terms("oreng"))
    assert not matches("Nasi Goreng", query_terms("asi"))
    assert matches("Nasi Goreng", query_terms("goreng nasi"))  # order does not matter


# --- normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("NASI GORÉNG", "nasi goreng"),
        ("Nasi-Goreng", "nasi goreng"),
        ("  Kopi   Süßer\tTraum!! ", "kopi susser traum"),
        ("Crème brûlée", "creme brulee"),
        ("Es Teh (Manis), 500ml", "es teh manis 500ml"),
        ("\uff2e\uff41\uff53\uff49", "nasi"),  # full-width "Nasi": NFKD compatibility forms
        ("ﬁsh & chips", "fish chips"),
        ("İkan", "ikan"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalise_folds_case_accents_and_punctuation(text: str, normalised: str) -> None:
    assert normalise(text) == normalised


def test_accented_and_plain_spellings_find_each_other() -> None:
    assert matches("Bubur Ayam Müller", query_terms("muller"))
    assert matches("Bubur Ayam Muller", query_terms("MÜLL"))
    assert matches("Café Kopi", query_terms("CAFE"))
    assert matches("Nasi-Goreng", query_terms("nasi goreng"))
    assert matches("nasi goreng", query_terms("Nasi-Gor"))


def test_words_are_normalised_unique_and_in_order() -> None:
    assert words("Ayam Goreng, ayam BAKAR & Ayam") == ["ayam", "goreng", "bakar"]
    assert words(" - ") == []


@given(st.text(max_size=60))
def test_normalise_is_idempotent_and_yields_single_spaced_alphanumerics(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert all(ch.isalnum() or ch == " " for ch in once)


# --- the index items ---------------------------------------------------------------------


def test_prefixes_of_a_sample_name() -> None:
    assert index_prefixes("Nasi Goreng Spesial") == {
        "na", "nas", "nasi",
        "go", "gor", "gore", "goren", "goreng",
        "sp", "spe", "spes", "spesi", "spesia", "spesial",
    }  # fmt: skip


def test_prefixes_are_cut_at_the_maximum_length_and_skip_one_letter_words() -> None:
    prefixes = index_prefixes("Es Krim Stroberikacangijo X")
    assert "stroberikaca" in prefixes
    assert max(len(p) for p in prefixes) == MAX_PREFIX_LEN
    assert "x" not in prefixes
    assert "e" not in prefixes
    assert "es" in prefixes
    assert index_prefixes("Soto", min_len=3, max_len=3) == {"sot"}


def test_shared_prefixes_are_stored_once() -> None:
    assert index_prefixes("Nasi Nasional") == {
        "na", "nas", "nasi",
        "nasio", "nasion", "nasiona", "nasional",
    }  # fmt: skip


def test_a_long_name_is_capped_by_whole_words() -> None:
    # Given a name whose words need more index items than the cap
    name = "Nasi Goreng Spesial Telur Ayam Kampung Sambal Matah Kerupuk Udang Extra Pedas Jumbo"
    prefixes = index_prefixes(name)
    # Then no more than the cap is written
    assert len(prefixes) == MAX_PREFIXES_PER_NAME
    # and each word is indexed with all its prefixes or not at all
    fully = [w for w in words(name) if _own_prefixes(w) <= prefixes]
    assert prefixes == set().union(*(_own_prefixes(w) for w in fully))
    assert 3 <= len(fully) < len(words(name))
    # the first words are always in
    assert fully[:3] == ["nasi", "goreng", "spesial"]


def _own_prefixes(word: str) -> set[str]:
    return {word[:n] for n in range(2, min(len(word), MAX_PREFIX_LEN) + 1)}


@given(st.text(max_size=120))
def test_any_name_stays_within_the_cap_and_lengths(name: str) -> None:
    prefixes = index_prefixes(name)
    assert len(prefixes) <= MAX_PREFIXES_PER_NAME
    assert all(2 <= len(p) <= MAX_PREFIX_LEN for p in prefixes)


def test_bad_prefix_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="min_len"):
        index_prefixes("Soto", min_len=4, max_len=3)


# --- query terms and the lookup partition ------------------------------------------------


def test_query_terms_are_full_normalised_words() -> None:
    assert query_terms("  Nasi-GORÉNG nasi ") == ["nasi", "goreng"]
    assert query_terms("stroberikacangijo") == ["stroberikacangijo"]


def test_the_longest_term_is_looked_up_cut_to_the_indexed_length() -> None:
    assert lookup_term(["nasi", "gor"]) == "nasi"
    assert lookup_term(["es", "teh"]) == "teh"
    assert lookup_term(["kopi", "susu"]) == "kopi"  # the first of equally long terms
    assert lookup_term(["stroberikacangijo"]) == "stroberikaca"


def test_a_long_query_word_still_filters_by_its_full_length() -> None:
    names = ["Es Stroberikacangijo", "Es Stroberikacangmerah"]
    # Both live in the SEARCH#stroberikaca partition; only one matches the whole word.
    assert _found("stroberikacangijo", names) == ["Es Stroberikacangijo"]


def test_a_query_without_a_two_letter_word_cannot_use_the_index() -> None:
    with pytest.raises(ValueError, match="at least one word of 2"):
        lookup_term(query_terms("a b"))
    with pytest.raises(ValueError, match="at least one word of 2"):
        lookup_term(query_terms("!!"))
    assert lookup_term(query_terms("a teh")) == "teh"


@given(name=st.text(max_size=40), data=st.data())
def test_a_prefix_of_an_indexed_word_always_finds_the_product(
    name: str, data: st.DataObject
) -> None:
    # Given any name short enough not to be capped and any prefix of one of its words
    indexed = [w for w in words(name) if len(w) >= 2]
    if not indexed or len(index_prefixes(name)) >= MAX_PREFIXES_PER_NAME:
        return
    word = data.draw(st.sampled_from(indexed))
    q = word[: data.draw(st.integers(2, len(word)))]
    # Then the read path finds it
    assert _found(q, [name]) == [name]


# --- relevance ---------------------------------------------------------------------------


def test_relevance_orders_by_matched_words_then_exact_words_then_name() -> None:
    names = [
        "Nasional Kopi",
        "Nasi Uduk",
        "Ayam Goreng Nasi",
        "Nasi Goreng Spesial",
        "NASI GORÉNG",
        "Nasi Gorengan Campur",
    ]
    assert _found("nasi goreng", names) == [
        # two words matched, both exactly, then by name
        "Ayam Goreng Nasi",
        "NASI GORÉNG",
        "Nasi Goreng Spesial",
        # two words matched, one exactly
        "Nasi Gorengan Campur",
    ]
    assert _found("nasi", names) == [
        "Ayam Goreng Nasi",
        "NASI GORÉNG",
        "Nasi Goreng Spesial",
        "Nasi Gorengan Campur",
        "Nasi Uduk",
        "Nasional Kopi",  # "nasi" only begins "nasional"
    ]


def test_relevance_counts_each_name_word_once() -> None:
    terms = query_terms("na nas")
    assert relevance("Nasi Goreng", terms)[0] == -1
    assert relevance("Nasi Nanas", terms)[0] == -2
    assert sorted(["Nasi Goreng", "Nasi Nanas"], key=lambda n: relevance(n, terms)) == [
        "Nasi Nanas",
        "Nasi Goreng",
    ]


def test_relevance_is_a_total_order_even_for_names_that_normalise_alike() -> None:
    terms = query_terms("nasi")
    assert relevance("NASI", terms) < relevance("Nasi", terms)
    assert relevance("Nasi", terms) != relevance("nasi", terms)
