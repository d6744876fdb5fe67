"""How a buyer can be reached: email, phone or LINE ID, each in one stored form.

Most buyers of a LINE-based shop never give an email, so a customer needs a name and at
least one of the three. Phones are stored in E.164 (`+886912345678`) so that
`0912-345-678`, `+886 912 345 678`, `０９１２３４５６７８` and `0912345678` are one number and a
search in any of those forms finds it. The parsing is Google's libphonenumber
(`phonenumberslite`: the metadata without the geocoder), imported on first use: most
requests never read a phone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chalicelib.platform.errors import Invalid

# A number typed without a country code is read as Taiwanese: the sellers are.
DEFAULT_REGION = "TW"
KINDS = ("email", "phone", "line_id")
LINE_ID_MAX = 100


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """`raw` as E.164, or Invalid("invalid_phone") when it cannot be a phone number."""
    import phonenumbers  # phonenumberslite; ~25 ms to import

    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise Invalid("invalid_phone", "not a phone number", field="phone") from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid("invalid_phone", "not a phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_phone(a: str | None, b: str | None) -> bool:
    """One number however typed (`0911-000-000` is the stored `+886911000000`); text that
    is no number compares as trimmed text."""

    def key(raw: str | None) -> str:
        text = (raw or "").strip()
        try:
            return normalize_phone(text) if text else ""
        except Invalid:
            return text

    return key(a) == key(b)


def normalize_line_id(raw: str) -> str:
    """A LINE ID as typed, trimmed (full-width letters and digits made half-width: LINE IDs
    are ASCII). LINE treats them case-insensitively; `line_id_key` is what is matched."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise Invalid("invalid_line_id", "LINE ID cannot be blank", field="line_id")
    if len(text) > LINE_ID_MAX:
        raise Invalid("invalid_line_id", f"LINE ID is at most {LINE_ID_MAX} characters", field="line_id")
    return text


def line_id_key(line_id: str) -> str:
    return normalize_line_id(line_id).lower()


def phone_search_digits(q: str) -> str | None:
    """The digits a phone search should look for inside stored E.164 numbers, or None when
    `q` is not phone-like. `0912-345` → `912345` (the trunk 0 is not part of E.164);
    `+886 912` → `886912`; fewer than 4 digits is not a phone search."""
    text = unicodedata.normalize("NFKC", q).strip()
    if not text or re.search(r"[^\d\s+\-().]", text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("0") and not text.startswith("00"):
        digits = digits[1:]
    elif text.startswith("00"):
        digits = digits[2:]  # 00886...: the international prefix
    return digits if len(digits) >= 4 else None


@dataclass(frozen=True)
class Contact:
    """A buyer's contacts in stored form; at least one is set (see `contact_of`)."""

    email: str | None = None
    phone: str | None = None
    line_id: str | None = None

    def keys(self) -> dict[str, str]:
        """The fields a buyer is found by: `email_lower`, `phone`, `line_id_key`."""
        found = {}
        if self.email:
            found["email_lower"] = self.email.lower()
        if self.phone:
            found["phone"] = self.phone
        if self.line_id:
            found["line_id_key"] = self.line_id.lower()
        return found

    def label(self) -> str:
        """What tells two buyers of one name apart, in the order sellers recognise them."""
        return self.line_id and f"LINE {self.line_id}" or self.phone or self.email or ""


def contact_of(
    email: str | None, phone: str | None, line_id: str | None, region: str = DEFAULT_REGION
) -> Contact:
    """The normalised contacts, or Invalid("contact_required") when none is given."""
    contact = Contact(
        email=email.strip() if email and email.strip() else None,
        phone=normalize_phone(phone, region) if phone and phone.strip() else None,
        line_id=normalize_line_id(line_id) if line_id and line_id.strip() else None,
    )
    if not (contact.email or contact.phone or contact.line_id):
        raise Invalid("contact_required", "give an email, a phone or a LINE ID", field="email")
    return contact
