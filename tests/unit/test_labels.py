"""The words a CSV writes for codes (chalicelib/platform/labels.py) are the pages' own:
a zh shop's export reads like its pages, and the import reads those words back."""

from __future__ import annotations

import pytest
from test_i18n_tables import tables

from chalicelib.platform import labels
from chalicelib.platform.schemas import FULFILLMENT_STATUSES, PAYMENT_STATUSES

PAGES = tables()


def page_key(kind: str, code: str) -> str:
    return labels.PAGE_KEY.get((kind, code)) or labels.PAGE_KEYS[kind] + code


def test_every_word_is_the_pages_word():
    pairs = [(kind, code) for kind, words in labels.ZH.items() for code in words if kind in labels.PAGE_KEYS]
    pairs += list(labels.PAGE_KEY)
    assert len(pairs) > 30
    wrong = [
        (kind, code, labels.ZH[kind][code], PAGES["zh-Hant"].get(page_key(kind, code)))
        for kind, code in pairs
        if labels.ZH[kind][code] != PAGES["zh-Hant"].get(page_key(kind, code))
    ]
    assert wrong == []
    english = [
        (kind, code)
        for kind, words in labels.EN.items()
        for code, w in words.items()
        if w != PAGES["en"].get(page_key(kind, code))
    ]
    assert english == []


def test_every_status_has_a_word():
    assert set(labels.ZH["payment_status"]) == {*PAYMENT_STATUSES, "partial"}
    assert set(labels.ZH["fulfillment_status"]) == set(FULFILLMENT_STATUSES)


@pytest.mark.parametrize("kind", ["payment_status", "fulfillment_status"])
def test_words_read_back_both_ways(kind):
    for code, word in labels.ZH[kind].items():
        assert labels.word(kind, code, "zh") == word
        assert labels.word(kind, code, "en") == code
        for text in (
            word,
            code,
            code.upper(),
            f" {word} ",
            labels.EN[kind][code],
            labels.EN[kind][code].upper(),
        ):
            assert labels.code_of(kind, text) == code, text
    assert labels.code_of(kind, "已寄出") == "已寄出"  # unknown: the caller refuses it


def test_older_words_are_still_read():
    assert labels.code_of("fulfillment_status", "待購買") == "pending"
    assert labels.code_of("payment_status", "待購買") == "待購買"  # only where it means something


def test_a_charge_is_in_the_state_its_page_shows():
    assert [
        labels.charge_state_of(*args)
        for args in (("open", 0, 60), ("open", 20, 40), ("open", 60, 0), ("void", 20, 0))
    ] == ["open", "partial", "paid", "void"]
