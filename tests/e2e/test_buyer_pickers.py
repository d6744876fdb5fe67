"""The buyer pickers (issue 25): two buyers both named 林志明 are told apart by their contact
wherever a buyer is chosen: new order (chosen by typing part of the phone or the email),
the orders filter, record payment, ship; the pickers are sorted and keyboard usable. The
Buyers tab adds a LINE-only buyer, and the new-order form takes a new buyer inline (these
two need the server side of issue 25: `line_id`, `buyer: {...}`). English at 1280 px and
繁體中文 at 375 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    api_call,
    order_row,
    pick_buyer,
    serious,
    settled,
    shot,
    show_filters,
)

CASES = [pytest.param("en-US", DESKTOP, id="en-desktop"), pytest.param("zh-TW", PHONE, id="zh-phone")]
WORDS = {
    "en": {
        "orders": "Orders",
        "payments": "Payments",
        "ship": "Ship",
        "buyers": "Buyers",
        "all": "All",
        "pick": "Choose a buyer",
    },
    "zh": {
        "orders": "訂單",
        "payments": "收款",
        "ship": "出貨",
        "buyers": "買家",
        "all": "全部",
        "pick": "選擇買家",
    },
}


def words(locale):
    return WORDS["zh" if locale == "zh-TW" else "en"]


def no_sideways_scroll(page, viewport):
    if viewport == PHONE:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width


def new_order(page, item, price, no):
    form = page.locator("#order-form")
    form.locator("[name=item_name]").fill(item)
    form.locator("[name=unit_price]").fill(str(price))
    # After "Create" the page reloads the list and then the buyers (GET /customers and
    # /items): the next pick starts once both are in, as it would for a person.
    with (
        page.expect_response(lambda r: "/customers?" in r.url),
        page.expect_response(lambda r: "/items?" in r.url),
    ):
        form.locator("[type=submit]").click()
    expect(page.locator("#order-form-msg .alert-success")).to_contain_text(str(no))
    expect(order_row(page, no)).to_be_visible()


def seed(page, stack):
    """Two 林志明 (one with a phone, one with only an email) and two others, made out of name order."""
    token = page.evaluate("localStorage.getItem('token')")
    made = {}
    for key, body in [
        ("zoe", {"name": "Zoe", "email": "zoe@example.com"}),
        ("lin_mail", {"name": "林志明", "email": "zhiming@example.com"}),
        ("amy", {"name": "Amy Chen", "email": "amy@example.com"}),
        ("lin_phone", {"name": "林志明", "email": "lin.a@example.com", "phone": "0912-345-678"}),
    ]:
        made[key] = api_call(stack, "POST", "/customers", token, body)
    return token, made


@pytest.mark.parametrize(("locale", "viewport"), CASES)
def test_same_name_buyers_are_told_apart_in_every_picker(stack, seller_page, locale, viewport):
    w = words(locale)
    tag = "zh-phone" if viewport == PHONE else "en-desktop"
    page = seller_page(locale=locale, viewport=viewport)
    token, made = seed(page, stack)
    page.reload()

    # New order: each 林志明 chosen by typing part of their contact (the phone in another format).
    page.locator("#new-order-box summary").click()
    pick_buyer(page, "order-buyer", "0912 345", "0912-345-678")
    expect(page.locator("#order-buyer + .ts-wrapper .ts-control")).to_contain_text("林志明")
    new_order(page, "Pocky", 120, 1001)
    pick_buyer(page, "order-buyer", "zhiming", "zhiming@example.com")
    shot(page, f"buyer-picker-new-order-{tag}", full_page=False)
    new_order(page, "Royce", 780, 1002)
    orders = api_call(stack, "GET", "/orders?limit=10", token)["items"]
    by_item = {o["item_name"]: o["customer_id"] for o in orders}
    assert by_item == {"Pocky": made["lin_phone"]["id"], "Royce": made["lin_mail"]["id"]}
    # No buyer and no new buyer: said so, nothing sent.
    page.locator("#order-buyer-ts-control").focus()  # as Tab reaches it
    page.keyboard.press("Backspace")  # the chosen buyer goes
    expect(page.locator("#order-buyer")).to_have_value("")
    page.keyboard.press("Escape")
    expect(page.locator("#order-buyer-ts-control")).to_have_attribute("placeholder", w["pick"])
    page.locator("#order-form [name=item_name]").fill("Kit Kat")
    page.locator("#order-form [name=unit_price]").fill("50")
    page.locator("#order-form [type=submit]").click()
    expect(page.locator("#order-form-msg .alert-danger")).to_be_visible()
    assert len(api_call(stack, "GET", "/orders?limit=10", token)["items"]) == 2

    # The orders filter: sorted by name, "All" first, the two 林志明 apart; keyboard only.
    control = page.locator("#filter-buyer-ts-control")
    show_filters(page)  # folded on a phone
    page.locator("#filter-buyer + .ts-wrapper .ts-control").click()
    page.mouse.move(0, 0)  # a pointer left resting on an option (once scrolled) would make it the active one
    options = page.locator("#filter-buyer-ts-dropdown [role=option]")
    expect(options).to_have_count(5)
    texts = [" ".join(t.split()) for t in options.all_inner_texts()]
    latin = ["Amy Chen amy@example.com", "Zoe zoe@example.com"]
    lins = ["林志明 0912-345-678", "林志明 zhiming@example.com"]
    # Sorted in the page's language: zh-TW's collation puts Chinese names first.
    assert texts == [w["all"], *(lins + latin if locale == "zh-TW" else latin + lins)], texts
    assert control.get_attribute("role") == "combobox"
    assert page.locator("#filter-buyer-ts-dropdown").get_attribute("role") == "listbox"
    page.locator("#filter-buyer-ts-dropdown").scroll_into_view_if_needed()
    shot(page, f"buyer-picker-filter-{tag}", full_page=False)
    no_sideways_scroll(page, viewport)
    control.press("Escape")
    expect(page.locator("#filter-buyer-ts-dropdown")).to_be_hidden()
    control.press("ArrowDown")  # opens the list again
    expect(page.locator("#filter-buyer-ts-dropdown")).to_be_visible()
    active = page.locator("#filter-buyer-ts-dropdown .active")
    expect(active).to_have_count(1)
    seen = [" ".join(active.inner_text().split())]
    while "zhiming" not in seen[-1] and len(seen) < 6:  # down the list, one option a press
        control.press("ArrowDown")
        expect(active).not_to_have_text(seen[-1])
        seen.append(" ".join(active.inner_text().split()))
    assert seen == texts[texts.index(seen[0]) : texts.index(seen[0]) + len(seen)], (seen, texts)
    control.press("ArrowUp")
    expect(active).to_have_text(seen[-2])
    control.press("ArrowDown")
    expect(active).to_contain_text("zhiming@example.com")
    control.press("Enter")
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Royce")
    assert page.locator("#filter-buyer").input_value() == made["lin_mail"]["id"]

    # Record payment: the phone one by part of their number.
    page.get_by_role("tab", name=w["payments"]).click()
    page.locator("#pay-record-box > summary").click()
    pick_buyer(page, "pay-form-buyer", "912345", "0912-345-678")
    assert page.locator("#pay-form-buyer").input_value() == made["lin_phone"]["id"]
    expect(page.locator("#pay-form-orders .pay-order")).to_have_count(1)
    expect(page.locator("#pay-form-orders")).to_contain_text("Pocky")
    page.locator("#pay-filter-buyer + .ts-wrapper .ts-control").click()
    expect(page.locator("#pay-filter-buyer-ts-dropdown [role=option]")).to_have_count(5)
    pay_options = [
        " ".join(t.split())
        for t in page.locator("#pay-filter-buyer-ts-dropdown [role=option]").all_inner_texts()
    ]
    assert [o for o in pay_options if o.startswith("林")] == lins, pay_options
    page.locator("#pay-filter-buyer-ts-control").press("Escape")
    no_sideways_scroll(page, viewport)

    # Ship: both bought; the two cards say which 林志明.
    for o in orders:
        api_call(stack, "PATCH", f"/orders/{o['id']}", token, {"fulfillment_status": "purchased"})
    page.get_by_role("tab", name=w["ship"]).click()
    headings = page.locator("#ship-ready h3")
    expect(headings).to_have_count(2)
    expect(page.locator("#ship-ready .buyer-contact")).to_have_text(
        ["0912-345-678", "zhiming@example.com"], use_inner_text=True
    )
    settled(page)
    shot(page, f"buyer-picker-ship-{tag}", full_page=False)
    assert not serious(page, "ship")


@pytest.mark.parametrize(("locale", "viewport"), CASES)
def test_buyers_tab_says_a_contact_is_needed(stack, seller_page, locale, viewport):
    page = seller_page(locale=locale, viewport=viewport)
    token = page.evaluate("localStorage.getItem('token')")
    page.get_by_role("tab", name=words(locale)["buyers"]).click()
    expect(page.locator("#customers-body td")).to_have_count(1)  # the tab is loaded: "no buyers yet"
    form = page.locator("#customer-form")
    form.locator("[name=name]").fill("陳小美")
    form.locator("[type=submit]").click()
    for name in ("email", "phone", "line_id"):
        expect(form.locator(f"[name={name}]")).to_have_class(re.compile("is-invalid"))
    msg = (
        "買家需要 Email、電話或 LINE ID 其中一項"
        if locale == "zh-TW"
        else "a buyer needs an email, a phone or a LINE ID"
    )
    expect(page.locator("#customer-form-msg")).to_contain_text(msg)
    assert api_call(stack, "GET", "/customers?limit=10", token)["items"] == []


# --- these need the server side of issue 25 (branch h-buyers): line_id, buyer: {...} -------


@pytest.mark.parametrize(("locale", "viewport"), CASES)
def test_line_only_buyer_and_new_buyer_inline(stack, seller_page, locale, viewport):
    tag = "zh-phone" if viewport == PHONE else "en-desktop"
    page = seller_page(locale=locale, viewport=viewport)
    token = page.evaluate("localStorage.getItem('token')")
    page.get_by_role("tab", name=words(locale)["buyers"]).click()
    expect(page.locator("#customers-body td")).to_have_count(1)  # the tab is loaded: "no buyers yet"
    form = page.locator("#customer-form")
    # A phone that is no phone: the server names the field, nothing is stored.
    form.locator("[name=name]").fill("陳小美")
    form.locator("[name=phone]").fill("12")
    form.locator("[type=submit]").click()
    expect(form.locator("[name=phone]")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#customer-form-msg .alert-danger")).to_be_visible()
    assert api_call(stack, "GET", "/customers?limit=10", token)["items"] == []
    # LINE only.
    form.locator("[name=phone]").fill("")
    form.locator("[name=line_id]").fill("mei.chen")
    form.locator("[type=submit]").click()
    row = page.locator("#customers-body tr[data-id]")
    expect(row).to_have_count(1)
    expect(row.first.locator(".buyer-contact")).to_have_text("LINE mei.chen")
    (stored,) = api_call(stack, "GET", "/customers?limit=10", token)["items"]
    assert (stored["name"], stored.get("email"), stored["line_id"]) == ("陳小美", None, "mei.chen")
    shot(page, f"buyers-line-only-{tag}", full_page=False)

    # New order for a new buyer with only a LINE ID; then the pickers offer them.
    page.get_by_role("tab", name=words(locale)["orders"]).click()
    page.locator("#new-order-box summary").click()
    of = page.locator("#order-form")
    of.locator("[name=buyer_name]").fill("王大同")
    of.locator("[name=buyer_line_id]").fill("datong")
    new_order(page, "Pocky", 120, 1001)
    (order,) = api_call(stack, "GET", "/orders?limit=10", token)["items"]
    buyer = api_call(stack, "GET", f"/customers/{order['customer_id']}", token)
    assert (buyer["name"], buyer["line_id"], buyer.get("email")) == ("王大同", "datong", None)
    # The form now has them chosen: a second order goes to the same buyer.
    expect(page.locator("#order-buyer + .ts-wrapper .ts-control")).to_contain_text("LINE datong")
    new_order(page, "Royce", 780, 1002)
    assert {o["customer_id"] for o in api_call(stack, "GET", "/orders?limit=10", token)["items"]} == {
        buyer["id"]
    }
    pick_buyer(page, "filter-buyer", "mei.c", "LINE mei.chen")
    shot(page, f"buyer-picker-line-{tag}", full_page=False)
