"""The orders list answers a menu at once (issue 27, "Speed on the local default"): a
filter chosen from a menu asks the server without the 300 ms pause that typed text waits
for; the search box still waits, so typing a word asks once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, seed_orders, show_filters, sign_up

# Marks the moment of each filter change (before the page's own listener runs) and every
# GET /orders the page sends after it.
WATCH = """() => {
  window.__changes = [];
  window.__asked = [];
  document.querySelector('#order-filters').addEventListener('input', () => window.__changes.push(performance.now()), true);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (new URL(e.name).pathname === '/orders') window.__asked.push([e.name, e.startTime]);
  }).observe({ type: 'resource' });
}"""


@pytest.mark.parametrize(("locale", "viewport"), [("en-US", DESKTOP), ("zh-TW", PHONE)])
def test_a_menu_filter_asks_at_once_and_typing_waits(seller_page, locale, viewport):
    page = seller_page(locale=locale, viewport=viewport)
    page.wait_for_function("() => window.__ordersRendered !== undefined")
    page.evaluate(WATCH)
    show_filters(page)  # folded on a phone
    filters = page.locator("#order-filters")
    expect(filters.locator("[name=payment_status]")).to_be_visible()

    filters.locator("[name=payment_status]").select_option("unpaid")
    page.wait_for_function("() => window.__asked.some(([u]) => u.includes('payment_status=unpaid'))")
    waited = page.evaluate(
        "() => window.__asked.find(([u]) => u.includes('payment_status=unpaid'))[1] - window.__changes[0]"
    )
    assert waited < 200, f"the menu's request left {waited:.0f} ms after the change"

    # Typed text: one request for the word, sent after the pause.
    page.evaluate("() => { window.__changes = []; window.__asked = []; }")
    filters.locator("[name=q]").press_sequentially("tea", delay=20)
    page.wait_for_function("() => window.__asked.some(([u]) => u.includes('q=tea'))")
    asked = page.evaluate("() => window.__asked.map(([u, at]) => [u, at - window.__changes.at(-1)])")
    assert len(asked) == 1 and "q=tea" in asked[0][0], asked
    assert asked[0][1] >= 290, asked


# The rows on screen when each GET /orders leaves (fetch wrapped before the change).
ROWS_AT_ASK = """() => {
  window.__rowsAtAsk = [];
  const fetch0 = window.fetch;
  window.fetch = (url, ...rest) => {
    if (new URL(url, location.href).pathname === '/orders') {
      window.__rowsAtAsk.push([String(url), document.querySelectorAll('#orders-body tr[data-id]').length]);
    }
    return fetch0(url, ...rest);
  };
}"""


def test_a_filter_change_asks_before_the_old_rows_come_down(stack, page):
    """Issue 27: a filter change sends its request first and clears the old rows while the
    server answers (it cleared 100 rows first); the new rows, the count and the selection
    come out as before."""
    sign_up(page, stack, shop="Asks First")
    seed_orders(stack, page, n=4)
    page.reload()
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(4)
    rows.first.locator(".row-select").check()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    page.evaluate(ROWS_AT_ASK)

    page.locator("#order-filters [name=payment_status]").select_option("unpaid")
    page.wait_for_function("() => window.__rowsAtAsk.some(([u]) => u.includes('payment_status=unpaid'))")
    assert page.evaluate("window.__rowsAtAsk") == [[page.evaluate("window.__rowsAtAsk[0][0]"), 4]]
    expect(rows).to_have_count(4)  # every order is unpaid: the same orders, drawn again
    expect(page.locator("#orders-count")).to_contain_text("4")
    expect(page.locator("#bulk-count")).to_be_hidden()  # a new list starts without a selection
    expect(page.locator("#orders-body .row-select:checked")).to_have_count(0)

    page.locator("#order-filters [name=payment_status]").select_option("remitted")
    expect(page.locator("#orders-body")).to_contain_text("No orders match")
    expect(rows).to_have_count(0)
