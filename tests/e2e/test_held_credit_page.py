"""Orders held from credit on the seller's page (issue 27). Amy Chen paid NT$400 for a
NT$100 order: NT$300 of credit. A stranger submits the shop's order form twice in her
name (her email): two NT$120 orders the server holds from her credit. The list marks
them "credit not applied" (from `credit_held` and what they owe, no request per row); the
order panel reads her credit, offers it ("Use credit (NT$300 available)") and spends it on
that order alone (the server's order paid, her credit less by exactly 120); the Buyers
tab's charges panel spends the rest on all she owes after a confirm naming the amount, and
no marker is left. In both languages, on a 1280 px desktop and a 375 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_call, api_request, order_row, scroll_still, serious, shot

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_submissions")]  # conftest: forms' hourly limit

WORDS = {
    "en": {
        "orders": "Orders",
        "buyers": "Buyers",
        "marker": "credit not applied",
        "use": "Use credit (NT$300 available)",
        "used": "NT$120 of credit used; NT$180 left.",
        "use_all": "Use credit on held orders",
        "reports": "Reports",
        "ask": "Use Amy Chen's credit of NT$300",
        "yes": "Use credit",
        "no": "Not now",
        "used_all": "Amy Chen: NT$240 of credit used; NT$60 left.",
    },
    "zh": {
        "orders": "訂單",
        "buyers": "買家",
        "marker": "未扣抵餘額",
        "use": "用餘額扣抵（可用 NT$300）",
        "used": "已用餘額扣抵 NT$120；剩餘 NT$180。",
        "use_all": "用餘額扣抵未付訂單",
        "reports": "報表",
        "ask": "要用Amy Chen的儲值餘額 NT$300",
        "yes": "扣抵",
        "no": "先不要",
        "used_all": "Amy Chen：已用餘額扣抵 NT$240；剩餘 NT$60。",
    },
}
EMAIL = "amy@example.com"


def held_orders(stack, token) -> tuple[str, list[dict]]:
    """Amy with NT$300 of credit and two form orders of NT$120 held from it: her id and
    those orders, oldest first."""
    amy = api_call(stack, "POST", "/customers", token, {"name": "Amy Chen", "email": EMAIL})
    api_call(
        stack,
        "POST",
        "/orders",
        token,
        {"customer_id": amy["id"], "item_name": "Tea", "quantity": 1, "unit_price": 100},
    )
    api_call(
        stack,
        "POST",
        "/payments",
        token,
        {"customer_id": amy["id"], "amount": 400, "method": "bank_transfer"},
    )
    pocky = api_call(stack, "POST", "/items", token, {"item_name": "Pocky", "price": 120})
    form = api_call(
        stack,
        "POST",
        "/forms",
        token,
        {"batch": "B1", "title": "Group buy", "items": [{"item_id": pocky["id"]}]},
    )
    link = form["url"].split("#")[1]
    for _ in range(2):  # a stranger, no token: anyone may type her email
        body = {"name": "Amy", "email": EMAIL, "lines": [{"item_id": pocky["id"], "quantity": 1}]}
        status, answer = api_request(stack, "POST", f"/f/{link}/orders", body=body)
        assert status == 201, answer
    orders = api_call(stack, "GET", f"/orders?customer_id={amy['id']}", token)["items"]
    orders = sorted((o for o in orders if o["source"] == "form"), key=lambda o: o["order_no"])
    assert [(o["credit_held"], o["balance"]) for o in orders] == [(True, 120), (True, 120)]
    assert api_call(stack, "GET", f"/customers/{amy['id']}", token)["credit"] == 300
    return amy["id"], orders


# Each language and each width once (English on a laptop, 繁中 on a phone): the test
# budget of `make test` (20 min on 2 cores) has no room for every pair.
EVERY_WAY = pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en-US", DESKTOP), ("zh-TW", PHONE)],
    ids=["en-desktop", "zh-phone"],
)


def start(stack, seller_page, locale, viewport):
    """(page, words, screenshot suffix, token, Amy's id, her two held orders)."""
    zh = locale == "zh-TW"
    page = seller_page(locale=locale, viewport=viewport)
    token = page.evaluate("localStorage.getItem('token')")
    customer_id, orders = held_orders(stack, token)
    page.reload()
    where = f"{'zh' if zh else 'en'}-{'phone' if viewport == PHONE else 'desktop'}"
    return page, WORDS["zh" if zh else "en"], where, token, customer_id, orders


def confirm_use_all(page, w, stack, token, customer_id, where):
    """The confirm names her credit; "Not now" moves nothing; then "Use credit"."""
    confirm = page.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text(w["ask"])
    confirm.get_by_role("button", name=w["no"], exact=True).click()
    expect(confirm).to_have_count(0)
    assert api_call(stack, "GET", f"/customers/{customer_id}", token)["credit"] == 300
    return confirm


@EVERY_WAY
def test_the_order_panel_spends_her_credit_on_that_order(stack, seller_page, locale, viewport):
    page, w, where, token, customer_id, (first, second) = start(stack, seller_page, locale, viewport)

    # The list: both held orders marked, with the reason on hover; the paid one not.
    for o in (first, second):
        marker = order_row(page, o["order_no"]).locator(".credit-held")
        expect(marker).to_have_text(w["marker"])
        assert marker.get_attribute("title")
    expect(page.locator("#orders-body .credit-held")).to_have_count(2)
    if viewport == PHONE:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    scroll_still(page)
    shot(page, f"held-credit-list-{where}", full_page=False)

    # The panel of the first: her credit read and offered, spent on this order alone.
    order_row(page, first["order_no"]).locator(".order-open").click()
    box = page.locator("#detail-credit")
    expect(box.locator(".credit-held")).to_have_text(w["marker"])
    button = box.locator(".use-credit")
    expect(button).to_have_text(w["use"])
    expect(page.locator("#detail-balance")).to_have_text("NT$120")
    why = box.locator(".credit-held-why")
    expect(box).to_have_text(f"{w['marker']}{w['use']}{why.inner_text()}")  # nothing else
    button.scroll_into_view_if_needed()
    scroll_still(page)
    shot(page, f"held-credit-panel-{where}", full_page=False)
    assert serious(page, "order panel of a held order") == []
    button.click()
    # Said where it was pressed, next to the paid and owed lines (the panel's message
    # box is below the fields, out of a phone's view).
    expect(box.locator(".credit-used")).to_have_text(w["used"])
    expect(page.locator("#detail-paid")).to_have_text("NT$120")
    expect(page.locator("#detail-balance")).to_have_text("NT$0")
    expect(box.locator(".use-credit, .credit-held")).to_have_count(0)
    expect(page.locator("#detail-payments li")).to_have_count(1)  # the payment the credit came from
    scroll_still(page)
    shot(page, f"held-credit-used-{where}", full_page=False)
    server = api_call(stack, "GET", f"/orders/{first['id']}", token)
    assert (server["paid_amount"], server["balance"], server["payment_status"]) == (120, 0, "remitted")
    assert api_call(stack, "GET", f"/customers/{customer_id}", token)["credit"] == 180
    assert api_call(stack, "GET", f"/orders/{second['id']}", token)["balance"] == 120
    page.locator("#detail-close").click()
    expect(order_row(page, first["order_no"]).locator(".credit-held")).to_have_count(0)
    expect(order_row(page, second["order_no"]).locator(".credit-held")).to_have_count(1)


def assert_all_paid(stack, token, customer_id, orders):
    for o in orders:
        server = api_call(stack, "GET", f"/orders/{o['id']}", token)
        assert (server["paid_amount"], server["balance"]) == (120, 0), server
    assert api_call(stack, "GET", f"/customers/{customer_id}", token)["credit"] == 60


@EVERY_WAY
def test_the_charges_panel_spends_her_credit_on_all_held_orders(stack, seller_page, locale, viewport):
    page, w, where, token, customer_id, orders = start(stack, seller_page, locale, viewport)
    expect(page.locator("#orders-body .credit-held")).to_have_count(2)
    page.get_by_role("tab", name=w["buyers"]).click()
    row = page.locator("#customers-body tr", has_text="Amy Chen")
    row.locator(".charges-open").click()
    panel = page.locator("#charges-box .charges-panel")
    use_all = panel.locator(".use-credit-all")
    expect(use_all).to_have_text(w["use_all"])
    use_all.click()
    confirm_use_all(page, w, stack, token, customer_id, where)
    use_all.click()
    scroll_still(page)
    shot(page, f"held-credit-confirm-{where}", full_page=False)
    page.locator("dialog.confirm-dialog").get_by_role("button", name=w["yes"], exact=True).click()
    expect(panel.locator(".charges-msg")).to_contain_text(w["used_all"])
    expect(panel.locator(".use-credit-all")).to_have_count(0)  # nothing owed now
    assert_all_paid(stack, token, customer_id, orders)
    if viewport == PHONE:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # No marker left in the list.
    page.get_by_role("tab", name=w["orders"]).click()
    expect(order_row(page, orders[1]["order_no"])).to_have_count(1)
    expect(page.locator("#orders-body .credit-held")).to_have_count(0)


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_the_buyers_report_spends_her_credit_on_all_held_orders(stack, seller_page, locale, viewport):
    page, w, where, token, customer_id, orders = start(stack, seller_page, locale, viewport)
    page.get_by_role("tab", name=w["reports"]).click()
    row = page.locator("#rep-buyers tbody tr", has_text="Amy Chen")
    use_all = row.locator(".credit-amount .use-credit-all")
    expect(use_all).to_have_text(w["use_all"])
    expect(page.locator("#rep-buyers tfoot .use-credit-all")).to_have_count(0)  # not on the totals
    use_all.scroll_into_view_if_needed()
    scroll_still(page)
    shot(page, f"held-credit-report-button-{where}", full_page=False)
    use_all.click()
    confirm_use_all(page, w, stack, token, customer_id, where)
    use_all.click()
    page.locator("dialog.confirm-dialog").get_by_role("button", name=w["yes"], exact=True).click()
    expect(page.locator("#flash")).to_contain_text(w["used_all"])
    expect(row.locator(".credit-amount")).to_have_text("NT$60")  # reloaded: the button gone
    assert_all_paid(stack, token, customer_id, orders)
    scroll_still(page)
    shot(page, f"held-credit-report-{where}", full_page=False)
    if viewport == PHONE:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
