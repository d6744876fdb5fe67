"""Issue 30, variants on the pages: the seller adds a shirt in 2 colours × 2 sizes on the
Items tab (each with its own stock), a buyer orders one variant on the public form on a
phone (375 px), in English and in 繁體中文, and the seller sees that variant's stock drop
and its movement in the item's stock log; no other variant moves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_call, api_request, ok, serious, settled, shot

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {
        "locale": "en-US",
        "tab": "Items",
        "save": "Save",
        "more": "One more",
        "log": "Stock log",
        "sep": ": ",
        "order": "order",
        "by_form": "order form",
        "by_owner": "the owner",
    },
    "zh-Hant": {
        "locale": "zh-TW",
        "tab": "商品",
        "save": "儲存",
        "more": "加一件",
        "log": "庫存紀錄",
        "sep": "：",
        "order": "訂單",
        "by_form": "訂購表單",
        "by_owner": "店主",
    },
}
STOCKS = {"黑 / M": "3", "黑 / L": "5", "白 / M": "2", "白 / L": "4"}


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_buyer_orders_one_variant_on_a_phone_and_the_seller_sees_its_stock_move(
    stack, open_page, seller_page, fresh_submissions, language
):
    texts = TEXTS[language]
    seller = seller_page(locale=texts["locale"])
    token = seller.evaluate("localStorage.getItem('token')")
    ok(api_request(stack, "PATCH", "/auth/me", token, {"language": language}))
    seller.get_by_role("tab", name=texts["tab"]).click()
    form = seller.locator("#item-form")
    form.locator("[name=item_name]").fill("棉T")
    form.locator("[name=price]").fill("４５０")  # full-width digits, as typed with an IME
    for name, values in (("顏色", "黑、白"), ("尺寸", "M, L")):
        seller.locator("#item-add-option").click()
        row = seller.locator("#item-options .item-option").last
        row.locator(".item-option-name").fill(name)
        row.locator(".item-option-values").fill(values)
    rows = seller.locator("#item-variant-rows tr.variant-row")
    expect(rows).to_have_count(4)
    expect(form.locator("[name=stock]")).to_be_disabled()  # kept per variant
    for label, stock in STOCKS.items():
        row = rows.filter(has_text=label)
        row.locator(".variant-stock").fill(stock)
    rows.filter(has_text="黑 / L").locator(".variant-price").fill("480")
    form.get_by_role("button", name=texts["save"]).click()
    listed = seller.locator("#items-body tr", has_text="棉T")
    expect(listed.locator(".variant-stock li")).to_have_count(4)
    expect(listed).to_contain_text(f"黑 / L{texts['sep']}5")

    item = ok(api_request(stack, "GET", "/items", token))["items"][0]
    assert [(v["label"], v["stock"], v["price"]) for v in item["variants"]] == [
        ("黑 / M", 3, None),
        ("黑 / L", 5, 480),
        ("白 / M", 2, None),
        ("白 / L", 4, None),
    ]
    body = {"batch": "2026-12 首爾", "title": "棉T團", "items": [{"item_id": item["id"]}]}
    url = ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]

    buyer = open_page(viewport=PHONE, locale=texts["locale"])
    buyer.goto(url)
    cards = buyer.locator("#of-items .of-item")
    expect(cards).to_have_count(4)  # one line per variant, each with its own price and stock
    black_l = cards.filter(has_text="黑 / L")
    expect(black_l.locator(".of-price")).to_contain_text("480")
    black_l.get_by_role("button", name=re.compile(texts["more"])).click()
    buyer.locator("#of-name").fill("金小美")
    buyer.locator("#of-email").fill("mei@example.com")
    settled(buyer, 375)
    assert buyer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems = serious(buyer, f"variants form {language} 375")
    shot(buyer, f"form-variants-{language}", full_page=False)
    buyer.locator("#of-submit").click()
    buyer.wait_for_url(re.compile(r"/track\.html"))
    expect(buyer.locator("body")).to_contain_text("黑 / L")  # the buyer's page names the variant
    assert not problems, "\n".join(problems)

    seller.reload()
    seller.get_by_role("tab", name=texts["tab"]).click()
    listed = seller.locator("#items-body tr", has_text="棉T")
    expect(listed).to_contain_text(f"黑 / L{texts['sep']}4")
    for label in ("黑 / M", "白 / M", "白 / L"):
        expect(listed).to_contain_text(f"{label}{texts['sep']}{STOCKS[label]}")
    listed.get_by_role("button", name=texts["log"]).click()
    latest = seller.locator("#items-body tr.item-movements li.movement").first
    expect(latest).to_contain_text("-1")
    expect(latest).to_contain_text(texts["order"])
    expect(latest).to_contain_text("黑 / L")
    expect(latest.locator(".movement-by")).to_contain_text(texts["by_form"])  # who moved it (issue 31)

    # A count finds 2 more 白 / M (typed with full-width digits): a movement of its own.
    log = seller.locator("#items-body tr.item-movements")
    log.locator(".item-adjust-variant").select_option(label="白 / M")
    log.locator(".item-adjust-delta").fill("＋２")
    log.locator(".item-adjust").get_by_role("button").click()
    listed = seller.locator("#items-body tr", has_text="棉T").first
    expect(listed).to_contain_text(f"白 / M{texts['sep']}4")
    latest = seller.locator("#items-body tr.item-movements li.movement").first
    expect(latest).to_contain_text("+2")
    expect(latest).to_contain_text("白 / M")
    expect(latest.locator(".movement-by")).to_contain_text(texts["by_owner"])
    settled(seller)
    assert not serious(seller, f"items tab stock log {language}")
    shot(seller, f"items-variants-{language}")


def test_order_entry_picks_the_variant_with_the_keyboard(stack, seller_page):
    """The item picker, then the item's variants: Enter on the item moves the focus to the
    variant choice, the arrows pick one (its price fills in), Enter in the quantity creates
    the order with that variant. The keyboard only, once the page is open."""
    page = seller_page(locale="zh-TW")
    token = page.evaluate("localStorage.getItem('token')")
    amy = api_call(stack, "POST", "/customers", token, {"name": "Amy Chen", "line_id": "amy_c"})["id"]
    body = {
        "item_name": "棉T",
        "price": 450,
        "options": [{"name": "顏色", "values": ["黑", "白"]}],
        "variants": [{"values": ["黑"], "stock": 2}, {"values": ["白"], "stock": 4, "price": 480}],
    }
    item = api_call(stack, "POST", "/items", token, body)
    page.reload()
    expect(page.locator("#order-buyer-ts-control")).to_be_attached()
    settled(page)
    page.locator("#new-order-box summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("amy")
    page.keyboard.press("Enter")
    item_field = page.locator("#order-form [name=item_name]")
    expect(item_field).to_be_focused()
    page.keyboard.type("棉")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    variant = page.locator("#order-variant")
    expect(variant).to_be_visible()
    expect(variant).to_be_focused()
    expect(variant.locator("option")).to_have_count(3)  # "choose", 黑, 白
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(variant).to_have_value(item["variants"][1]["id"])
    expect(page.locator("#order-form [name=unit_price]")).to_have_value("480")
    page.keyboard.press("Tab")
    expect(page.locator("#order-form [name=quantity]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#order-form-msg .alert-success")).to_be_visible()
    expect(variant).to_be_hidden()  # the next order starts with the item
    orders = api_call(stack, "GET", "/orders", token)["items"]
    assert [(o["customer_id"], o["variant_label"], o["unit_price"]) for o in orders] == [(amy, "白", 480)]
    expect(page.locator("#orders-body")).to_contain_text("棉T（白）")

    # The order panel moves the order to the other colour: its units go with it.
    page.locator("#orders-body .order-open").first.click()
    panel = page.locator("#detail-form")
    expect(panel.locator("#detail-variant")).to_have_value(item["variants"][1]["id"])
    page.wait_for_load_state("networkidle")  # the panel reads the order again as it opens
    settled(page)
    panel.locator("#detail-variant").select_option(item["variants"][0]["id"])
    panel.locator("#detail-save").click()
    expect(page.locator("#detail-item")).to_have_text("棉T（黑）")
    stocks = [v["stock"] for v in api_call(stack, "GET", f"/items/{item['id']}", token)["variants"]]
    assert stocks == [1, 4]  # 黑 2 - 1, 白 back to 4
