"""Issue 29, the minimum to open (成團門檻) on the buyer's public form: on a phone (375 px),
in English and in 繁體中文, each item with a minimum shows units ordered by everyone
against it, a bar, and "成團！" / "Going ahead!" once reached; nothing spills sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_request, api_seller, ok, serious, settled, shot

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {"short": "Group buy: 2 / 5 ordered", "needed": "3 more to go ahead", "met": "Going ahead!"},
    "zh-Hant": {"short": "成團進度：已訂 2 / 5 件", "needed": "還差 3 件成團", "met": "成團！"},
}


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_public_form_shows_progress_to_the_minimum_on_a_phone(
    stack, open_page, fresh_submissions, language
):
    texts = TEXTS[language]
    token = api_seller(stack, shop="東京代購", language=language)
    pocky = ok(api_request(stack, "POST", "/items", token, {"item_name": "Pocky 草莓", "price": 120}), 201)
    kit = ok(api_request(stack, "POST", "/items", token, {"item_name": "KitKat 抹茶", "price": 90}), 201)
    body = {
        "batch": "2026-12",
        "title": "成團測試",
        "items": [{"item_id": pocky["id"], "min_quantity": 5}, {"item_id": kit["id"], "min_quantity": 1}],
        "contact": "line_id",
    }
    url = ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]
    form_token = url.split("#")[1]
    order = {
        "name": "林志明",
        "line_id": "lin_zm",
        "lines": [{"item_id": pocky["id"], "quantity": 2}, {"item_id": kit["id"], "quantity": 1}],
    }
    ok(api_request(stack, "POST", f"/f/{form_token}/orders", None, order), 201)

    page = open_page(viewport=PHONE, locale="zh-TW" if language == "zh-Hant" else "en-US")
    page.goto(url)
    cards = page.locator("#of-items .of-item")
    short, met = cards.nth(0), cards.nth(1)
    expect(short.locator(".of-name")).to_have_text("Pocky 草莓")
    expect(short.locator(".of-min-count")).to_have_text(texts["short"])
    expect(short.locator(".of-min-needed")).to_have_text(texts["needed"])
    bar = short.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "2")
    expect(bar).to_have_attribute("aria-valuemax", "5")
    assert (
        35
        <= short.locator(".progress-bar").evaluate(
            "e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width * 100"
        )
        <= 45
    )
    expect(met.locator(".of-min-reached")).to_have_text(texts["met"])
    expect(met.locator(".of-min-needed")).to_have_count(0)
    settled(page, 375)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems = serious(page, f"form minimum {language} 375")
    shot(page, f"form-minimum-{language}")
    assert not problems, "\n".join(problems)
