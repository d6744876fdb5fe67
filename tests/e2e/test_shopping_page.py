"""Issue 30: the shopping trip on a phone (375 px), in 繁體中文 and in English. From a
batch's page the seller opens the shopping list, records a full purchase of one item with
the stepper and a unit cost typed in full-width digits (its two orders become purchased),
then a short purchase of another item and resolves the shortage: first ordered first is
proposed, one buyer is kept, the other (LINE only, paid) is cancelled with credit and is
named as one to tell by LINE. Checked through the API afterwards. And extras bought for a
tracked variant: the row's photo, "+2 to stock", the Items tab's stock and movement."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_call, serious, settled, shot
from tests.e2e.test_track_page_weight import add_photo, photo_jpeg

pytestmark = pytest.mark.e2e

BATCH = "2026-12 東京"
WORDS = {
    False: {
        "tab": "Batches",
        "now_bought": "2 orders are now bought",
        "kept": "Kept: Amy Chen",
        "cancelled": "Cancelled: Bo Lin",
        "credit": "Credit made: NT$120",
        "line": "tell them by LINE: Bo Lin",
        "keep_sum": "Kept: 1 of 1 units bought",
        "to_stock": "+2 to stock",
        "items": "Items",
        "sep": ": ",
        "log": "Stock log",
        "purchase": "purchase",
        "batch": f"batch {BATCH}",
    },
    True: {
        "tab": "批次",
        "now_bought": "2 筆訂單標為已採購",
        "kept": "保留：Amy Chen",
        "cancelled": "已取消：Bo Lin",
        "credit": "轉為購物金：NT$120",
        "line": "請用 LINE 通知：Bo Lin",
        "keep_sum": "保留：1／買到 1 個",
        "to_stock": "+2 入庫存",
        "items": "商品",
        "sep": "：",
        "log": "庫存紀錄",
        "purchase": "採買入庫",
        "batch": f"批次 {BATCH}",
    },
}


def seed(stack, token):
    amy = api_call(stack, "POST", "/customers", token, {"name": "Amy Chen", "email": "amy@example.com"})
    bo = api_call(stack, "POST", "/customers", token, {"name": "Bo Lin", "line_id": "bo.lin"})
    tee = api_call(stack, "POST", "/items", token, {"item_name": "UNIQLO T恤", "price": 390})
    kit = api_call(stack, "POST", "/items", token, {"item_name": "Kit Kat 抹茶", "price": 120})
    orders = {}
    for who in (amy, bo):
        for item in (tee, kit):
            body = {"customer_id": who["id"], "item_id": item["id"], "quantity": 1, "batch": BATCH}
            orders[(who["name"], item["item_name"])] = api_call(stack, "POST", "/orders", token, body)
    api_call(
        stack, "POST", "/payments", token, {"customer_id": bo["id"], "amount": 510, "method": "bank_transfer"}
    )
    return bo, tee, kit, orders


def status(stack, token, order):
    return api_call(stack, "GET", f"/orders/{order['id']}", token)["fulfillment_status"]


@pytest.mark.parametrize("locale", ["zh-TW", "en-US"], ids=["zh", "en"])
def test_extras_bought_for_a_tracked_variant_go_to_its_stock(stack, seller_page, locale):
    """Issue 30: the row shows the item's small photo (a row without one shows no image);
    3 bought of a tracked variant for 1 ordered: the order is bought, 2 go to stock and
    the row says so; the Items tab shows the stock up and the movement with its batch."""
    zh = locale == "zh-TW"
    w = WORDS[zh]
    page = seller_page(viewport=PHONE, locale=locale)
    token = page.evaluate("localStorage.getItem('token')")
    amy = api_call(stack, "POST", "/customers", token, {"name": "Amy Chen", "line_id": "amy.chen"})
    tee = api_call(
        stack,
        "POST",
        "/items",
        token,
        {
            "item_name": "UNIQLO T恤",
            "price": 390,
            "options": [{"name": "顏色", "values": ["紅", "藍"]}],
            "variants": [{"values": ["紅"], "stock": 2}, {"values": ["藍"], "stock": 4}],
        },
    )
    red = tee["variants"][0]["id"]
    add_photo(stack, token, tee["id"], photo_jpeg(200))
    small = api_call(stack, "GET", f"/items/{tee['id']}", token)["photos"][0]["small_url"]
    kit = api_call(stack, "POST", "/items", token, {"item_name": "Kit Kat 抹茶", "price": 120})
    for item, variant in ((tee, red), (kit, None)):
        body = {"customer_id": amy["id"], "item_id": item["id"], "quantity": 1, "batch": BATCH}
        order = api_call(stack, "POST", "/orders", token, body | ({"variant_id": variant} if variant else {}))
        if variant:
            tee_order = order
    page.reload()

    page.get_by_role("tab", name=w["tab"]).click()
    page.locator(f'#batch-list tr[data-batch="{BATCH}"] .batch-open-btn').click()
    page.locator(".batch-shopping").click()
    tee_line = page.locator(f'.shop-line[data-item="{tee["id"]}"]')
    kit_line = page.locator(f'.shop-line[data-item="{kit["id"]}"]')
    photo = tee_line.locator("img.shop-photo")
    expect(photo).to_have_attribute("src", small)
    expect(photo).to_have_attribute("loading", "lazy")
    page.wait_for_function("() => document.querySelector('img.shop-photo').naturalWidth > 0")
    expect(kit_line).to_be_visible()
    expect(kit_line.locator("img")).to_have_count(0)  # no photo: no image, not a broken one
    expect(tee_line.locator(".shop-to-stock")).to_have_count(0)

    # 3 bought for the 1 ordered: the order is bought, the other 2 go to the variant's stock.
    tee_line.locator(".shop-plus").click()
    tee_line.locator(".shop-plus").click()
    expect(tee_line.locator(".shop-qty")).to_have_value("3")
    tee_line.locator(".shop-record").click()
    expect(tee_line.locator(".shop-line-msg")).to_contain_text(w["now_bought"].replace("2", "1"))
    expect(tee_line.locator(".shop-to-stock")).to_have_text(w["to_stock"])
    expect(tee_line.locator(".shop-count-n")).to_have_text(["1", "3", "0"])
    assert status(stack, token, tee_order) == "purchased"
    settled(page, width=PHONE["width"])
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    problems = serious(page, f"shopping extras {locale}")
    shot(page, f"shopping-to-stock-{locale}", full_page=False)

    page.get_by_role("tab", name=w["items"]).click()
    listed = page.locator(f"#items-body tr[data-id='{tee['id']}']")
    expect(listed).to_contain_text(f"紅{w['sep']}3")  # 2, 1 ordered, 2 bought beyond it
    expect(listed).to_contain_text(f"藍{w['sep']}4")
    listed.get_by_role("button", name=w["log"]).click()
    latest = page.locator("#items-body tr.item-movements li.movement").first
    expect(latest).to_contain_text("+2")
    expect(latest).to_contain_text(w["purchase"])
    expect(latest).to_contain_text(w["batch"])
    expect(latest).to_contain_text("紅")
    settled(page, width=PHONE["width"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems += serious(page, f"items stock log after a trip {locale}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", ["zh-TW", "en-US"], ids=["zh", "en"])
def test_a_trip_on_the_phone_buys_and_resolves_a_shortage(stack, seller_page, locale):
    zh = locale == "zh-TW"
    w = WORDS[zh]
    page = seller_page(viewport=PHONE, locale=locale)
    token = page.evaluate("localStorage.getItem('token')")
    bo, tee, kit, orders = seed(stack, token)
    page.reload()

    page.get_by_role("tab", name=w["tab"]).click()
    page.locator(f'#batch-list tr[data-batch="{BATCH}"] .batch-open-btn').click()
    page.locator(".batch-shopping").click()
    lines = page.locator("#trip-lines .shop-line")
    expect(lines).to_have_count(2)
    tee_line = page.locator(f'.shop-line[data-item="{tee["id"]}"]')
    kit_line = page.locator(f'.shop-line[data-item="{kit["id"]}"]')
    expect(tee_line.locator(".shop-count-n")).to_have_text(["2", "0", "2"])

    # The T-shirts: the stepper starts at what is short (2); down and up again; a unit
    # cost typed in full-width digits, in yen.
    tee_line.locator(".shop-minus").click()
    expect(tee_line.locator(".shop-qty")).to_have_value("1")
    tee_line.locator(".shop-plus").click()
    tee_line.locator(".shop-cost").fill("１９９０")
    tee_line.locator(".shop-currency").select_option("JPY")
    tee_line.locator(".shop-record").click()
    expect(tee_line.locator(".shop-line-msg")).to_contain_text(w["now_bought"])
    expect(tee_line.locator(".shop-count-n")).to_have_text(["2", "2", "0"])
    for name in ("Amy Chen", "Bo Lin"):
        assert status(stack, token, orders[(name, "UNIQLO T恤")]) == "purchased"
    got = api_call(stack, "GET", f"/orders/{orders[('Amy Chen', 'UNIQLO T恤')]['id']}", token)
    assert (got["cost"], got["cost_currency"]) == (1990, "JPY")

    # Only one Kit Kat left in the store: record it, then resolve the shortage.
    kit_line.locator(".shop-minus").click()
    kit_line.locator(".shop-record").click()
    expect(kit_line.locator(".shop-count-n")).to_have_text(["2", "1", "1"])
    kit_line.locator(".shop-shortage-open").click()
    rows = kit_line.locator(".shop-keep-row")
    expect(rows).to_have_count(2)
    # First ordered first is proposed: Amy (ordered first) ticked, Bo not.
    expect(rows.nth(0).locator(".shop-keep-buyer")).to_have_text("Amy Chen")
    expect(rows.nth(0).locator(".shop-keep")).to_be_checked()
    expect(rows.nth(1).locator(".shop-keep")).not_to_be_checked()
    expect(kit_line.locator(".shop-keep-sum")).to_have_text(w["keep_sum"])
    # Ticking both is more than was bought: the confirm button waits.
    rows.nth(1).locator(".shop-keep").check()
    expect(kit_line.locator(".shop-shortage-confirm")).to_be_disabled()
    rows.nth(1).locator(".shop-keep").uncheck()
    settled(page, width=PHONE["width"])
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    small = page.evaluate(
        """() => [...document.querySelectorAll('#shopping button, #shopping input, #shopping select')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => (el.type === 'checkbox' ? el.closest('li').querySelector('label') : el))
            .filter((el) => el.getBoundingClientRect().height < 40)
            .map((el) => el.className)"""
    )
    assert small == [], small  # big tap targets (a checkbox: its row's label) for a thumb in a store
    problems = serious(page, f"shopping {locale}")
    shot(page, f"shopping-{locale}", full_page=False)
    assert problems == []

    kit_line.locator(".shop-shortage-confirm").click()
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text("Bo Lin")
    confirm.locator("button[value=yes]").click()
    msg = page.locator("#trip-msg")
    expect(msg).to_contain_text(w["kept"])
    expect(msg).to_contain_text(w["cancelled"])
    expect(msg).to_contain_text(w["credit"])
    expect(msg).to_contain_text(w["line"])
    # Bo's LINE text, copied as a batch notice's is: his cancelled order and his credit.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    bo_order = orders[("Bo Lin", "Kit Kat 抹茶")]
    row = msg.locator(f'.shop-line-text[data-order="{bo_order["id"]}"]')
    row.locator(".shop-copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"#{bo_order['order_no']}" in copied and "Kit Kat 抹茶" in copied and "120" in copied, copied
    assert row.locator("textarea").input_value() == copied
    assert status(stack, token, orders[("Amy Chen", "Kit Kat 抹茶")]) == "purchased"
    assert status(stack, token, orders[("Bo Lin", "Kit Kat 抹茶")]) == "cancelled"
    assert api_call(stack, "GET", f"/customers/{bo['id']}", token)["credit"] == 120
    expect(kit_line.locator(".shop-count-n")).to_have_text(["1", "1", "0"])

    # The other language: the shopping view stays, in its words.
    page.locator("#lang").select_option("en" if zh else "zh-Hant")
    expect(page.locator("#trip-title")).to_have_text(("Shopping: " if zh else "採買：") + BATCH)
    expect(page.locator("#trip-lines .shop-line")).to_have_count(2)
