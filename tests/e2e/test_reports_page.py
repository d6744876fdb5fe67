"""Reports that lead somewhere: a buyer in the summary opens their orders, the purchase
list follows the batch filter, CSV files are named with the batch (both languages)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_call, seed_orders, shot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("locale", "viewport"), [("en-US", None), ("zh-TW", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_reports_lead_to_orders_and_follow_the_batch(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    page = seller_page(viewport=viewport, locale=locale)
    token = seed_orders(stack, page, n=3, batch="2026-12 東京")
    api_call(
        stack,
        "POST",
        "/orders",
        token,
        {
            "buyer_email": "buyer0@example.com",
            "item_name": "Osaka Only",
            "quantity": 2,
            "unit_price": 50,
            "batch": "2027-01 大阪",
        },
    )
    page.get_by_role("tab", name="報表" if zh else "Reports").click()
    items = page.locator("#rep-items tbody")
    expect(items).to_contain_text("Osaka Only")
    page.locator("#rep-batch").fill("2026-12 東京")
    expect(items).not_to_contain_text("Osaka Only")
    expect(items).to_contain_text("Pocky 0")
    with page.expect_download() as info:
        page.locator("[data-csv='/reports/items']").click()
    assert info.value.suggested_filename == "items-2026-12_東京.csv"
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert "Pocky 0" in text and "Osaka Only" not in text
    shot(page, f"reports-batch-{'phone-zh' if zh else 'desktop'}")
    # Amy in the summary → her orders in that batch.
    page.locator("#rep-buyers tbody a.buyer-orders", has_text="Amy Chen").click()
    expect(page.locator("#tab-orders")).to_be_visible()
    assert "customer_id=" in page.url
    rows = page.locator("#orders-body tr[data-id]")
    expect(rows).to_have_count(2)  # #1001 and #1003, not Ben's nor the Osaka one
    for i in range(2):
        expect(rows.nth(i)).to_contain_text("Amy Chen")
    expect(page.locator("#filter-buyer option:checked")).to_have_text("Amy Chen")
    # Back goes to the reports tab.
    page.go_back()
    expect(page.locator("#tab-reports")).to_be_visible()
