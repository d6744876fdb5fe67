"""The pages' i18n tables (static_site/src/js/i18n/buyer.js and seller.js, split by audience:
the buyer pages load only the first): both languages have the same keys,
and every Chinese text is Chinese (English server or developer text once slipped into the
Chinese table: "That cannot be done with the data as it is.")."""

from __future__ import annotations

import json
import re
from pathlib import Path

I18N = Path(__file__).resolve().parents[2] / "static_site/src/js/i18n"
TABLES = ("buyer.js", "seller.js")
ENTRY = re.compile(r'^\s+"([^"]+)":\s*("(?:[^"\\]|\\.)*"),?\s*$')
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e]")
# Texts that are the same in both languages: brand names and what Taiwan writes in Latin
# letters too (CSV, Email, LINE).
SAME_EVERYWHERE = {
    "common.csv",
    "cust.social",
    "field.email",
    "field.social",
    "pm.line_pay",
    "form.line_id",
    "forms.contact_line_id",
    "cust.line_id",
    "cust.social_col",
}


def tables() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name in TABLES:
        current = None
        for line in (I18N / name).read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s+en: \{", line):
                current = out.setdefault("en", {})
            elif re.match(r'^\s+"zh-Hant": \{', line):
                current = out.setdefault("zh-Hant", {})
            elif current is not None and (m := ENTRY.match(line)):
                assert m.group(1) not in current, f"{m.group(1)} twice ({name})"
                current[m.group(1)] = json.loads(m.group(2))
    return out


def test_both_languages_have_the_same_keys():
    t = tables()
    assert len(t["en"]) > 400
    # English alone has singular forms (`<key>.one`); Chinese nouns have no plural.
    only_en = {k for k in set(t["en"]) - set(t["zh-Hant"]) if not (k.endswith(".one") and k[:-4] in t["en"])}
    assert sorted(only_en | (set(t["zh-Hant"]) - set(t["en"]))) == []


def test_every_chinese_text_is_chinese():
    english = [
        (k, v)
        for k, v in tables()["zh-Hant"].items()
        if k not in SAME_EVERYWHERE and re.search("[A-Za-z]{3,}", v) and not CJK.search(v)
    ]
    assert english == []
