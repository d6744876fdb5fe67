"""Issue 29, the waitlist (補貨通知) on a phone (375 px), in English and in 繁體中文: a
sold-out item on the public form offers "Notify me when back" / 「補貨通知我」, whose small
form answers with the buyer's place in line; the seller's Forms tab lists the queue and
skips a buyer. At 1280 px: the queue after the form's close, who was emailed and whom to
tell by LINE. Nothing spills sideways."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_request, ok, serious, settled, shot
from tests.e2e.test_form_reminders_page import reminded, schedule_once

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {
        "locale": "en-US",
        "notify": "Notify me when back",
        "join": "Join the waitlist",
        "place": "You are number 1 in line.",
        "tab": "Forms",
        "open": "Waitlist",
        "waiting": "waiting, number 1",
        "skip": "Skip",
        "skipped": "skipped",
        "closed": "the form closed first: emailed that nothing is owed",
        "closed_tell": "the form closed first; no email, tell them (LINE)",
        "ended": "the waitlist of",
    },
    "zh-Hant": {
        "locale": "zh-TW",
        "notify": "補貨通知我",
        "join": "加入候補",
        "place": "您是候補第 1 位。",
        "tab": "表單",
        "open": "候補名單",
        "waiting": "候補第 1 位",
        "skip": "略過",
        "skipped": "已略過",
        "closed": "表單已截止，未補到貨：已寄信告知",
        "closed_tell": "表單已截止，未補到貨；沒有 Email，請以 LINE 告知",
        "ended": "的候補結束",
    },
}


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_buyer_joins_a_sold_out_items_waitlist_and_the_seller_skips_them_on_a_phone(
    stack, open_page, seller_page, fresh_submissions, language
):
    texts = TEXTS[language]
    seller = seller_page(locale=texts["locale"], viewport=PHONE)
    token = seller.evaluate("localStorage.getItem('token')")
    ok(api_request(stack, "PATCH", "/auth/me", token, {"language": language}))
    item = ok(
        api_request(stack, "POST", "/items", token, {"item_name": "Pocky 草莓", "price": 120, "stock": 1}),
        201,
    )
    body = {"batch": "2026-12", "title": "補貨測試", "items": [{"item_id": item["id"]}], "contact": "any"}
    url = ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]
    form_token = url.split("#")[1]
    order = {"name": "先買的", "line_id": "first_one", "lines": [{"item_id": item["id"], "quantity": 1}]}
    ok(api_request(stack, "POST", f"/f/{form_token}/orders", None, order), 201)

    buyer = open_page(viewport=PHONE, locale=texts["locale"])
    buyer.goto(url)
    card = buyer.locator("#of-items .of-item").first
    card.get_by_role("button", name=texts["notify"]).click()
    box = card.locator(".of-w-form")
    expect(box).to_be_visible()
    box.locator("[name=name]").fill("林志明")
    box.locator("[name=line_id]").fill("lin_zm")
    box.get_by_role("button", name=texts["join"]).click()
    expect(card.locator(".of-w-msg")).to_contain_text(texts["place"])
    settled(buyer, 375)
    assert buyer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems = serious(buyer, f"waitlist {language} 375")
    shot(buyer, f"waitlist-{language}")

    seller.reload()
    seller.get_by_role("tab", name=texts["tab"]).click()
    seller.locator(".form-waitlist-open").first.click()
    entry = seller.locator(".form-waitlist-entry").first
    expect(entry).to_contain_text("林志明")
    expect(entry).to_contain_text(texts["waiting"])
    entry.get_by_role("button", name=texts["skip"]).click()
    expect(seller.locator(".form-waitlist-entry").first).to_contain_text(texts["skipped"])
    settled(seller, 375)
    assert seller.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems += serious(seller, f"waitlist queue {language} 375")
    assert not problems, "\n".join(problems)
    queue = ok(
        api_request(
            stack,
            "GET",
            f"/forms/{ok(api_request(stack, 'GET', '/forms', token))['items'][0]['id']}/waitlist",
            token,
        )
    )
    assert [e["status"] for e in queue["items"]] == ["skipped"]


def test_a_sold_out_variant_offers_its_own_waitlist_on_a_phone(
    stack, open_page, seller_page, fresh_submissions
):
    """Issue 30: a shirt whose 黑 is sold out and 白 is not: only 黑's line offers 補貨通知我,
    and the buyer joins 黑's waitlist (the seller's queue names the variant)."""
    texts = TEXTS["zh-Hant"]
    seller = seller_page(locale=texts["locale"], viewport=PHONE)
    token = seller.evaluate("localStorage.getItem('token')")
    shirt = {
        "item_name": "棉T",
        "price": 400,
        "options": [{"name": "顏色", "values": ["黑", "白"]}],
        "variants": [{"values": ["黑"], "stock": 0}, {"values": ["白"], "stock": 2}],
    }
    item = ok(api_request(stack, "POST", "/items", token, shirt), 201)
    black = next(v["id"] for v in item["variants"] if v["label"] == "黑")
    body = {"batch": "2026-12", "title": "變體候補", "items": [{"item_id": item["id"]}], "contact": "any"}
    url = ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]

    buyer = open_page(viewport=PHONE, locale=texts["locale"])
    buyer.goto(url)
    cards = buyer.locator("#of-items .of-item")
    expect(cards).to_have_count(2)
    card = cards.filter(has_text="黑")
    expect(cards.filter(has_text="白").get_by_role("button", name=texts["notify"])).to_have_count(0)
    card.get_by_role("button", name=texts["notify"]).click()
    box = card.locator(".of-w-form")
    box.locator("[name=name]").fill("林志明")
    box.locator("[name=line_id]").fill("lin_zm")
    box.get_by_role("button", name=texts["join"]).click()
    expect(card.locator(".of-w-msg")).to_contain_text(texts["place"])
    settled(buyer, 375)
    assert buyer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    form_id = ok(api_request(stack, "GET", "/forms", token))["items"][0]["id"]
    (entry,) = ok(api_request(stack, "GET", f"/forms/{form_id}/waitlist", token))["items"]
    assert (entry["variant_id"], entry["variant_label"], entry["status"]) == (black, "黑", "waiting")

    seller.reload()
    seller.get_by_role("tab", name=texts["tab"]).click()
    seller.locator(".form-waitlist-open").first.click()
    expect(seller.locator(".form-waitlist-entry").first).to_contain_text("棉T（黑）")
    problems = serious(buyer, "variant waitlist 375") + serious(seller, "variant queue 375")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_sellers_queue_on_a_desktop_skips_and_shows_whom_the_close_ended(
    stack, seller_page, fresh_submissions, language
):
    """At 1280 px: three buyers wait, the seller skips one; the form's close (the schedule,
    as `make run` runs it) ends the other two, and the queue says who was emailed and whom
    to tell by LINE, with no Skip left."""
    texts = TEXTS[language]
    tag = uuid.uuid4().hex[:8]
    seller = seller_page(locale=texts["locale"], viewport=DESKTOP)
    token = seller.evaluate("localStorage.getItem('token')")
    ok(api_request(stack, "PATCH", "/auth/me", token, {"language": language}))
    item = ok(
        api_request(stack, "POST", "/items", token, {"item_name": "Royce", "price": 450, "stock": 1}), 201
    )
    closes = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    body = {
        "batch": "2026-12",
        "title": f"截止 {tag}",
        "items": [{"item_id": item["id"]}],
        "contact": "any",
        "closes_at": closes.isoformat(),
    }
    form = ok(api_request(stack, "POST", "/forms", token, body), 201)
    form_token = form["url"].split("#")[1]
    order = {"name": "先買的", "line_id": f"first_{tag}", "lines": [{"item_id": item["id"], "quantity": 1}]}
    ok(api_request(stack, "POST", f"/f/{form_token}/orders", None, order), 201)
    amy = f"amy-{tag}@example.com"
    for name, contact in (
        ("Amy", {"email": amy}),
        ("Bo", {"line_id": f"bo_{tag}"}),
        ("Cy", {"line_id": f"cy_{tag}"}),
    ):
        join = {"name": name, "item_id": item["id"], "quantity": 1, **contact}
        ok(api_request(stack, "POST", f"/f/{form_token}/waitlist", None, join), 201)

    seller.reload()
    seller.get_by_role("tab", name=texts["tab"]).click()
    row = seller.locator("#forms-body tr[data-id]", has=seller.locator(".form-title", has_text=tag))
    row.locator(".form-waitlist-open").click()
    entries = row.locator(".form-waitlist-entry")
    expect(entries).to_have_count(3)
    expect(entries.nth(2)).to_contain_text("Cy")
    entries.nth(2).get_by_role("button", name=texts["skip"]).click()
    expect(entries.nth(2)).to_contain_text(texts["skipped"])

    # The close time passes; the schedule closes the form and ends the line.
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    ok(api_request(stack, "PATCH", f"/forms/{form['id']}", token, {"closes_at": past}))
    schedule_once(stack)
    seller.reload()
    seller.get_by_role("tab", name=texts["tab"]).click()
    row.locator(".form-waitlist-open").click()
    expect(entries).to_have_count(3)
    expect(entries.nth(0)).to_contain_text(texts["closed"])
    expect(entries.nth(1)).to_contain_text(texts["closed_tell"])
    expect(entries.nth(1).locator(".text-danger")).to_have_text(texts["closed_tell"])
    expect(entries.nth(2)).to_contain_text(texts["skipped"])
    expect(row.locator(".form-waitlist-skip")).to_have_count(0)
    assert [a for a in reminded(stack, texts["ended"]) if tag in a] == [amy]
    settled(seller, 1280)
    problems = serious(seller, f"waitlist closed {language} 1280")
    shot(seller, f"waitlist-closed-{language}")
    assert not problems, "\n".join(problems)
