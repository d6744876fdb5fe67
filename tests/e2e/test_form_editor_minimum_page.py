"""Issue 29, the seller's side of the minimum to open (成團門檻): in the Forms tab's editor
the seller gives an item a minimum (typed with full-width digits, as a Chinese input
method gives them), picks "extend the close once" and its days; the API stores them, the
list shows ordered/minimum, the editor opened again shows them, and the buyer's public form
then shows the progress. English and 繁體中文, at 1280 and at 375 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_request, ok, serious, settled, shot

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {
        "locale": "en-US",
        "tab": "Forms",
        "new": "New form",
        "title": "Title",
        "batch": "Batch",
        "min": "Minimum to go ahead (成團) for Pocky",
        "rule": "An item below its minimum at the close",
        "days": "Extend by (days, 1–30)",
        "days_bad": "Extend by a whole number of days from 1 to 30.",
        "create": "Publish form",
        "edit": "Edit 成團 {tag}",
        "row": "Pocky (1/4)",
        "progress": "Group buy: 1 / 4 ordered",
        "needed": "3 more to go ahead",
    },
    "zh-Hant": {
        "locale": "zh-TW",
        "tab": "表單",
        "new": "建立表單",
        "title": "標題",
        "batch": "批次",
        "min": "Pocky 的成團門檻",
        "rule": "截止時未達成團門檻的商品",
        "days": "延長天數（1–30）",
        "days_bad": "延長天數須為 1 到 30 的整數。",
        "create": "發布表單",
        "edit": "編輯（成團 {tag}）",
        "row": "Pocky（1/4）",
        "progress": "成團進度：已訂 1 / 4 件",
        "needed": "還差 3 件成團",
    },
}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_seller_sets_a_minimum_and_the_rule_and_the_buyer_sees_progress(
    stack, seller_page, open_page, fresh_submissions, language, viewport
):
    w = WORDS[language]
    tag = f"{language}-{viewport['width']}"
    title = f"成團 {tag}"
    page = seller_page(viewport=viewport, locale=w["locale"])
    token = page.evaluate("localStorage.getItem('token')")
    ok(api_request(stack, "PATCH", "/auth/me", token, {"language": language}))
    pocky = ok(
        api_request(stack, "POST", "/items", token, {"item_name": "Pocky", "price": 120, "stock": 20}), 201
    )
    ok(api_request(stack, "POST", "/items", token, {"item_name": "KitKat", "price": 90}), 201)
    page.reload()
    page.get_by_role("tab", name=w["tab"]).click()
    page.get_by_role("button", name=w["new"]).click()
    new = page.locator("#forms-new")
    new.get_by_label(w["title"], exact=True).fill(title)
    new.get_by_label(w["batch"], exact=True).fill("2026-12")
    new.get_by_role("checkbox", name="Pocky").check()
    new.get_by_label(w["min"]).fill("４")  # full-width, as typed with a Chinese input method
    days = new.get_by_label(w["days"])
    expect(days).to_be_disabled()  # only the "extend" rule takes days
    new.get_by_label(w["rule"]).select_option("extend")
    expect(days).to_be_enabled()
    days.fill("31")
    new.get_by_role("button", name=w["create"]).click()
    expect(page.locator("#forms-new-msg")).to_contain_text(w["days_bad"])
    assert ok(api_request(stack, "GET", "/forms", token))["items"] == []  # nothing written
    days.fill("３")
    settled(page, viewport["width"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems = serious(page, f"form editor minimum {tag}")
    shot(page, f"form-editor-minimum-{tag}")
    new.get_by_role("button", name=w["create"]).click()
    url = page.locator(".form-link-url").input_value()

    (made,) = ok(api_request(stack, "GET", "/forms", token))["items"]
    assert (made["on_min_unmet"], made["extend_days"]) == ("extend", 3)
    assert [(i["item_name"], i["min_quantity"]) for i in made["items"]] == [("Pocky", 4)]

    order = {
        "name": "林小美",
        "email": f"mei-{tag}@example.com",
        "lines": [{"item_id": pocky["id"], "quantity": 1}],
    }
    ok(api_request(stack, "POST", f"/f/{url.split('#')[1]}/orders", None, order), 201)
    page.reload()
    page.get_by_role("tab", name=w["tab"]).click()
    row = page.locator("#forms-body tr[data-id]", has=page.locator(".form-title", has_text=title))
    expect(row.locator(".form-items")).to_contain_text(w["row"])
    # Opened again, the editor shows what was saved.
    row.get_by_role("button", name=w["edit"].format(tag=tag)).click()
    expect(new.get_by_label(w["min"])).to_have_value("4")
    expect(new.get_by_label(w["rule"])).to_have_value("extend")
    expect(new.get_by_label(w["days"])).to_have_value("3")

    buyer = open_page(viewport=PHONE, locale=w["locale"])
    buyer.goto(url)
    card = buyer.locator("#of-items .of-item", has=buyer.locator(".of-name", has_text="Pocky"))
    expect(card.locator(".of-min-count")).to_have_text(w["progress"])
    expect(card.locator(".of-min-needed")).to_have_text(w["needed"])
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "1")
    kit = buyer.locator("#of-items .of-item", has=buyer.locator(".of-name", has_text="KitKat"))
    expect(kit).to_have_count(0)  # not ticked: not on the form
    assert not problems, "\n".join(problems)
