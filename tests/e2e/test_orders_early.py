"""The orders list's first page leaves before the page's modules have run (issue 27,
"Speed on the local default"): index.html's ask-early.js asks the default GET /orders while
seller.js and its imports still load, and the orders view takes that answer when it asks
the same; a filter changed during start-up never shows the early answer's rows; rows drawn
before /auth/me answers are drawn again in the shop's currency if it changed."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from tests.e2e.conftest import api_call, api_seller

FIRST_PAGE = "/orders?limit=100"


def seed(stack, token, n):
    """n orders of two buyers, every second one remitted; the ids of the remitted ones."""
    remitted = set()
    for i in range(n):
        body = {"buyer_email": f"b{i % 2}@example.com", "buyer_name": ["陳美玲", "王小明"][i % 2]}
        order = api_call(
            stack,
            "POST",
            "/orders",
            token,
            {**body, "item_name": f"抹茶 {i}", "quantity": 1, "unit_price": 120},
        )
        if i % 2:
            api_call(stack, "PATCH", f"/orders/{order['id']}", token, {"payment_status": "remitted"})
            remitted.add(order["id"])
    return remitted


def logged_in(open_page, token):
    page = open_page()
    page.context.add_init_script(f"localStorage.setItem('token', {json.dumps(token)})")
    return page


def until(page, condition, what):
    """Wait for a Python-side condition (route handlers run as the page's events are read)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(20)


def test_the_first_page_leaves_before_seller_js_runs_and_is_asked_once(stack, open_page):
    token = api_seller(stack, shop="早鳥代購")
    seed(stack, token, 4)
    page = logged_in(open_page, token)
    asked = []
    orders = stack.api_url + "/orders"
    page.on(
        "request", lambda r: asked.append(r.url) if r.method == "GET" and r.url.startswith(orders) else None
    )
    held = []  # seller.js, the page's entry module: nothing of the page runs while held
    page.route("**/js/seller.js", lambda route: held.append(route))

    with page.expect_request(lambda r: r.url == stack.api_url + FIRST_PAGE, timeout=5_000):
        page.goto(f"{stack.site_url}/index.html", wait_until="commit")
    until(page, lambda: held, "seller.js was never asked for")
    assert page.evaluate("window.__ordersRendered === undefined")  # the view has not run

    held[0].continue_()
    expect(page.locator("#orders-body tr[data-id]")).to_have_count(4)
    assert asked == [stack.api_url + FIRST_PAGE]  # the view took the early answer


def test_a_filter_changed_during_start_up_shows_its_own_rows_never_the_early_ones(stack, open_page):
    token = api_seller(stack, shop="早鳥代購")
    remitted = seed(stack, token, 6)
    page = logged_in(open_page, token)
    held = {}  # url → route: the early page and the filter's page, answered in the test's order
    page.route(
        lambda url: url.startswith(stack.api_url + "/orders?"),
        lambda route: held.setdefault(route.request.url, route),
    )

    page.goto(f"{stack.site_url}/index.html")
    until(page, lambda: stack.api_url + FIRST_PAGE in held, "the first page was never asked")
    # Every row ever drawn from here on (a stale draw replaced later would still be seen).
    page.evaluate("""() => {
      window.__drawn = new Set();
      new MutationObserver(() => {
        for (const tr of document.querySelectorAll('#orders-body tr[data-id]')) window.__drawn.add(tr.dataset.id);
      }).observe(document.querySelector('#orders-body'), { childList: true, subtree: true });
    }""")
    page.locator("#order-filters [name=payment_status]").select_option("unpaid")
    unpaid = lambda: [u for u in held if "payment_status=unpaid" in u]  # noqa: E731
    until(page, unpaid, "the filter's page was never asked")
    unpaid_url = unpaid()[0]

    # The early answer (every order) comes first, then the filter's (the unpaid ones).
    with page.expect_event("requestfinished", lambda r: r.url == stack.api_url + FIRST_PAGE):
        held[stack.api_url + FIRST_PAGE].continue_()
    held[unpaid_url].continue_()
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(3)
    expect(page.locator("#order-filters [name=payment_status]")).to_have_value("unpaid")
    shown = set(rows.evaluate_all("(trs) => trs.map((tr) => tr.dataset.id)"))
    assert shown and not shown & remitted
    assert not set(page.evaluate("[...window.__drawn]")) & remitted, "the early answer's rows were drawn"


def test_rows_drawn_before_the_profile_answers_follow_its_currency(stack, open_page):
    token = api_seller(stack, shop="早鳥代購", currency="JPY")
    seed(stack, token, 2)
    page = logged_in(open_page, token)
    # The profile this browser kept from its last visit, before the shop's currency changed.
    kept = json.dumps(json.dumps({"shop_name": "早鳥代購", "currency": "TWD"}))
    page.context.add_init_script(f"localStorage.setItem('seller', {kept})")
    held = []
    page.route(f"{stack.api_url}/auth/me", lambda route: held.append(route))

    page.goto(f"{stack.site_url}/index.html")
    totals = page.locator("#orders-body tr[data-id] .cell-total")
    expect(totals).to_have_count(2)
    expect(totals.first).to_have_text("NT$120")  # drawn before the profile answered
    until(page, lambda: held, "/auth/me was never asked")
    held[0].continue_()
    expect(totals.first).to_have_text("¥120")
    expect(totals.nth(1)).to_have_text("¥120")
