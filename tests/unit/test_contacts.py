"""A buyer's contacts in one stored form (chalicelib/rules/contacts.py)."""

import pytest

from chalicelib.platform.errors import Invalid
from chalicelib.rules import contacts


@pytest.mark.parametrize(
    "typed",
    [
        "0912-345-678",
        "+886 912 345 678",
        "0912345678",
        "０９１２３４５６７８",
        "0912 345 678",
        "+886-912-345-678",
        "886912345678",
    ],
)
def test_one_taiwanese_mobile_typed_many_ways_is_one_number(typed):
    assert contacts.normalize_phone(typed) == "+886912345678"


def test_a_landline_and_a_foreign_number_keep_their_country():
    assert contacts.normalize_phone("(02) 2345-6789") == "+886223456789"
    assert contacts.normalize_phone("+81 90-1234-5678") == "+819012345678"


@pytest.mark.parametrize("typed", ["12", "abc", "+886", "0912-345-678-999-999"])
def test_what_cannot_be_a_phone_is_refused_with_its_code(typed):
    with pytest.raises(Invalid) as err:
        contacts.normalize_phone(typed)
    assert (err.value.code, err.value.field) == ("invalid_phone", "phone")


def test_line_ids_are_trimmed_half_width_and_matched_without_case():
    assert contacts.normalize_line_id("  ＡｍｙＬｉｎ88 ") == "AmyLin88"
    assert contacts.line_id_key("AmyLin88") == contacts.line_id_key("amylin88") == "amylin88"
    with pytest.raises(Invalid) as err:
        contacts.normalize_line_id("x" * 101)
    assert err.value.code == "invalid_line_id"


@pytest.mark.parametrize(
    ("q", "digits"),
    [
        ("0912-345", "912345"),
        ("+886 912", "886912"),
        ("００９１２", None),
        ("345678", "345678"),
        ("00886912345678", "886912345678"),
        ("林志明", None),
        ("amy@example.com", None),
        ("091", None),
    ],
)
def test_phone_searches_look_for_the_digits_stored_numbers_contain(q, digits):
    assert contacts.phone_search_digits(q) == digits
    if digits:
        assert digits in "+886912345678" or digits in "+886912345678".replace("+", "")


def test_a_buyer_needs_one_contact_and_each_is_stored_normalised():
    c = contacts.contact_of(None, "0912-345-678", " amy_88 ")
    assert (c.email, c.phone, c.line_id) == (None, "+886912345678", "amy_88")
    assert c.keys() == {"phone": "+886912345678", "line_id_key": "amy_88"}
    assert c.label() == "LINE amy_88"
    assert contacts.contact_of("Amy@Example.com", None, None).keys() == {"email_lower": "amy@example.com"}
    with pytest.raises(Invalid) as err:
        contacts.contact_of(None, "  ", "")
    assert err.value.code == "contact_required"


def test_a_phone_typed_on_a_form_is_the_same_as_the_stored_one():
    """parcels._differs: a form's `0911-000-000` is the buyer's stored `+886911000000`."""
    assert contacts.same_phone("0911-000-000", "+886911000000")
    assert contacts.same_phone(" ", None)
    assert not contacts.same_phone("0933-333-333", "+886911000000")
    assert contacts.same_phone("call me after 6 ", "call me after 6")  # no number: as text
