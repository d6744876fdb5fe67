"""The lists read page by page with "Load more" (static_site/src/js/paged.js, shared by the
buyers, items, forms, payments, parcels and orders tabs and a batch's orders): past the
first page of 100 the button shows, reads the rest and goes; a search starts again from the
first page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_call, order_row, seed_orders, sign_up

pytestmark = pytest.mark.e2e

N = 103  # more than one page (PAGE = 100)


@pytest.mark.parametrize(
    ("tab", "body", "more", "search", "path", "make"),
    [
        (
            "Buyers",
            "#customers-body",
            "#customers-more",
            "#customer-q",
            "/customers",
            lambda i: {"name": f"Buyer {i:03d}", "email": f"buyer{i:03d}@example.com"},
        ),
        (
            "Items",
            "#items-body",
            "#items-more",
            "#item-q",
            "/items",
            lambda i: {"item_name": f"Item {i:03d}", "price": 10 + i},
        ),
    ],
)
def test_load_more_reads_past_the_first_page(stack, page, tab, body, more, search, path, make):
    sign_up(page, stack, shop=f"Paged {tab}")  # not "Tokyo Picks": test_site expects that slug free
    token = page.evaluate("localStorage.getItem('token')")
    for i in range(N):
        api_call(stack, "POST", path, token, make(i))
    page.get_by_role("tab", name=tab).click()
    rows = page.locator(f"{body} tr[data-id]")
    expect(rows).to_have_count(100)
    expect(page.locator(more)).to_be_visible()
    page.locator(more).click()
    expect(rows).to_have_count(N)
    expect(page.locator(more)).to_be_hidden()
    # Newest first: the last page holds the first ones made, each once.
    ids = rows.evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert len(set(ids)) == N
    expect(rows.last).to_contain_text(f"{0:03d}")
    # A search reads from the first page again.
    page.locator(search).fill(f"{N - 1:03d}")
    expect(rows).to_have_count(1)
    expect(page.locator(more)).to_be_hidden()
    page.locator(search).fill("")
    expect(rows).to_have_count(100)
    expect(page.locator(more)).to_be_visible()


def test_the_orders_and_a_batchs_orders_read_past_the_first_page(stack, page):
    batch = "2026-12 Paged"
    sign_up(page, stack, shop="Paged Orders")
    seed_orders(stack, page, n=N, batch=batch)
    page.reload()
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(100)
    expect(page.locator("#orders-count")).to_have_text(f"Showing 100 of {N} orders")
    page.locator("#orders-more").click()
    expect(rows).to_have_count(N)
    expect(page.locator("#orders-more")).to_be_hidden()
    expect(page.locator("#orders-count")).to_have_text(f"{N} orders")
    ids = rows.evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert len(set(ids)) == N
    # A row of the second page changes in place and offers its undo like any other.
    order_row(page, 1001).locator(".cell-status .edit-cell").click()
    order_row(page, 1001).locator(".cell-status select").select_option("shipped")
    expect(page.locator("#undo-bar .undo")).to_be_visible()
    expect(order_row(page, 1001).locator(".cell-status")).to_have_text("Shipped")
    expect(rows).to_have_count(N)
    page.locator("#select-all").check()
    expect(page.locator("#bulk-count")).to_have_text(f"{N} selected")
    # A filter reads from the first page again.
    page.locator("#order-filters [name=q]").fill("Pocky 102")
    expect(rows).to_have_count(1)
    expect(page.locator("#orders-more")).to_be_hidden()

    page.get_by_role("tab", name="Batches").click()
    page.locator(f'#batch-list tr[data-batch="{batch}"] .batch-open-btn').click()
    batch_rows = page.locator("#batch-orders tbody tr[data-id]")
    expect(batch_rows).to_have_count(100)
    expect(page.locator("#batch-orders-more")).to_be_visible()
    page.locator("#batch-orders-more").click()
    expect(batch_rows).to_have_count(N)
    expect(page.locator("#batch-orders-more")).to_be_hidden()
    ids = batch_rows.evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert len(set(ids)) == N
    expect(batch_rows.last).to_have_attribute("data-order-no", "1001")
