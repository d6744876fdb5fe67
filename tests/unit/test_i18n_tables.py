"""The pages' i18n tables (static_site/src/js/i18n/buyer.js and seller.js, split by audience:
the buyer pages load only the first): both languages have the same keys,
and every Chinese text is Chinese (English server or developer text once slipped into the
Chinese table: "That cannot be done with the data as it is.")."""

from __future__ import annotations

import json
import re
from pathlib import Path

I18N = Path(__file__).resolve().parents[2] / "static_site/src/js/i18n"
TABLES = ("buyer.js", "buyer-track.js", "buyer-waitlist.js", "seller.js")
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


# Issue 27: 繁中 texts use full-width ：（）; a half-width colon or bracket next to Chinese
# ("數量: 3", "店號 (123)") reads as a typo. {placeholders} and URLs are not text.
HAN = r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]"
HALF_WIDTH_NEXT_TO_HAN = re.compile(rf"{HAN}\s*[:()]|[:()]\s*{HAN}")
PAGE_JS = I18N.parent
# Page code that glues a half-width colon or bracket to an interpolated text: in 繁中 that
# text is Chinese. `labelled()` and `aside()` (i18n.js) write the language's own; in HTML
# `data-i18n-label` does.
GLUED = re.compile(
    r"\$\{[^`]*?\}:\s|`[^`]*\(\$\{|\(<span data-i18n|\"\(\", h\(|data-i18n=\"[\w.]+\"></span>:"
)


def mixed(text: str) -> bool:
    text = re.sub(r"\{\w+\}", "x", text)
    text = re.sub(r"https?://\S+", "", text)
    return bool(HALF_WIDTH_NEXT_TO_HAN.search(text))


def test_the_check_sees_half_width_punctuation_next_to_chinese():
    assert mixed("數量: 3") and mixed("店號 (123)") and mixed("(部分付款)") and mixed("買家:{name}")
    assert not mixed("數量：3") and not mixed("{item_name}：需要 {needed}") and not mixed("LINE ID (1–100)")
    assert not mixed("網址 https://example.com/a:b") and not mixed("{a}: {b}")


def test_chinese_texts_use_full_width_colons_and_brackets():
    assert [(k, v) for k, v in tables()["zh-Hant"].items() if mixed(v)] == []


def test_the_packing_slip_in_chinese_uses_full_width_colons_and_brackets():
    """The slip's zh texts as printed: every label with its colon, the store number in brackets."""
    from chalicelib.shipping import packing_slip

    html = packing_slip._template().render(
        t=packing_slip.TEXT["zh-Hant"],
        shop="東京代購",
        parcel={
            "parcel_no": 1,
            "shipped_date": "2026-12-04",
            "method": "cvs_711",
            "carrier": "統一速達",
            "note": "易碎",
            "tracking_number": None,
        },
        recipient={
            "name": "陳小美",
            "phone": "0912345678",
            "store_name": "信義門市",
            "store_id": "123456",
            "address": None,
        },
        buyer_name="陳小美",
        orders=[{"order_no": 1001, "item_name": "東京芭娜娜", "quantity": 2, "total_amount": 96000}],
        prices=True,
        label=False,
        shipping=6000,
        total=102000,
        balance=0,
        money=str,
    )
    body = re.sub(r"<[^>]+>", "\n", html.split("<body>", 1)[1])
    assert "電話：0912345678" in body and "（店號 123456）" in body
    assert [line for line in body.splitlines() if mixed(line)] == []


def test_page_code_does_not_glue_half_width_punctuation_to_texts():
    glued = [
        f"{path.relative_to(PAGE_JS.parent)}:{n}: {line.strip()}"
        for path in sorted([*PAGE_JS.rglob("*.js"), *PAGE_JS.parent.glob("*.html")])
        if path.parent.name != "i18n"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if GLUED.search(line)
    ]
    assert glued == []
