"""Issue 25, forms for buyers without email: on a phone (375 px), in English and in 繁體中文,
a buyer orders on a form that asks for a phone number (a `tel` field, no email field) and
on one that asks for a LINE ID; a missing or unreadable contact is marked at its field in
the page's language; both land on their tracking page. The seller's Forms tab has the
contact select."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_request, api_seller, ok, serious, settled, shot

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {
        "name": "Your name",
        "phone": "Phone",
        "line": "LINE ID",
        "submit": "Place order",
        "required": "Please fill this in.",
        "bad_phone": "Enter a phone number like 0912-345-678.",
        "any": "Fill in at least one: email, phone or LINE ID.",
    },
    "zh-Hant": {
        "name": "姓名",
        "phone": "電話",
        "line": "LINE ID",
        "submit": "送出訂單",
        "required": "請填寫此欄。",
        "bad_phone": "請輸入電話號碼，例如 0912-345-678。",
        "any": "請至少填一項：電子郵件、電話或 LINE ID。",
    },
}


def make_forms(stack, language):
    token = api_seller(stack, shop="LINE 代購", language=language)
    item = ok(api_request(stack, "POST", "/items", token, {"item_name": "Pocky 草莓", "price": 120}), 201)
    urls = {}
    for contact in ("phone", "line_id", "any"):
        body = {
            "batch": "2026-12",
            "title": f"團購 {contact}",
            "items": [{"item_id": item["id"]}],
            "contact": contact,
        }
        urls[contact] = ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]
    return token, urls


def choose_one(page):
    page.locator("#of-items .of-item").first.get_by_role("button").last.click()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_buyers_without_email_order_by_phone_and_by_line_id_on_a_phone(
    stack, open_page, fresh_submissions, language
):
    texts = TEXTS[language]
    required = texts["required"]
    token, urls = make_forms(stack, language)
    page = open_page(viewport=PHONE, locale="zh-TW" if language == "zh-Hant" else "en-US")
    problems: list[str] = []

    # --- a phone form: a tel field, no email field -------------------------------------
    page.goto(urls["phone"])
    expect(page.locator("#of-title")).to_have_text("團購 phone")
    expect(page.locator("#of-email")).to_be_hidden()
    expect(page.locator("#of-line_id")).to_be_hidden()
    phone = page.locator("#of-phone")
    expect(phone).to_be_visible()
    expect(phone).to_have_attribute("inputmode", "tel")
    expect(phone).to_have_attribute("type", "tel")
    choose_one(page)
    page.get_by_label(texts["name"]).fill("林志明")
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page.locator("#of-phone-error")).to_have_text(required)
    phone.fill("12")  # the server reads it: not a number
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page.locator("#of-phone-error")).to_have_text(texts["bad_phone"])
    settled(page, 375)
    problems += serious(page, f"phone form with a bad number {language} 375")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"form-contact-phone-{language}-error")
    phone.fill("0912-345-678")
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page).to_have_url(re.compile(r"/track\.html#"))
    expect(page.locator("body")).to_contain_text("Pocky 草莓")

    # --- a LINE ID form -----------------------------------------------------------------
    page.goto(urls["line_id"])
    expect(page.locator("#of-title")).to_have_text("團購 line_id")
    expect(page.locator("#of-email")).to_be_hidden()
    expect(page.locator("#of-phone")).to_be_hidden()
    line = page.locator("#of-line_id")
    expect(line).to_be_visible()
    choose_one(page)
    page.get_by_label(texts["name"]).fill("林志明")
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page.locator("#of-line_id-error")).to_have_text(required)
    line.fill("Lin_ZM")
    settled(page, 375)
    problems += serious(page, f"LINE form {language} 375")
    shot(page, f"form-contact-line-{language}")
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page).to_have_url(re.compile(r"/track\.html#"))

    # --- "any": the three fields, one is enough ------------------------------------------
    page.goto(urls["any"])
    expect(page.locator("#of-title")).to_have_text("團購 any")
    for field in ("#of-email", "#of-phone", "#of-line_id", "#of-contact-any"):
        expect(page.locator(field)).to_be_visible()
    choose_one(page)
    page.get_by_label(texts["name"]).fill("林志明")
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page.locator("#of-email-error")).to_have_text(texts["any"])
    settled(page, 375)
    shot(page, f"form-contact-any-{language}")
    page.locator("#of-line_id").fill("lin_zm")  # the LINE buyer again, another case
    page.get_by_role("button", name=texts["submit"]).click()
    expect(page).to_have_url(re.compile(r"/track\.html#"))

    orders = ok(api_request(stack, "GET", "/orders", token))["items"]
    assert len(orders) == 3, orders
    by_form = {o["form_title"]: o["customer_id"] for o in orders}
    assert by_form["團購 line_id"] == by_form["團購 any"] != by_form["團購 phone"], by_form
    assert {o["buyer_email"] for o in orders} == {None}
    assert not problems, "\n".join(problems)


def test_the_forms_tab_sets_what_a_form_asks_for(stack, seller_page):
    page = seller_page(viewport=DESKTOP)
    token = page.evaluate("localStorage.getItem('token')")
    ok(api_request(stack, "POST", "/items", token, {"item_name": "Royce", "price": 650}), 201)
    page.reload()
    page.get_by_role("tab", name="Forms").click()
    page.get_by_role("button", name="New form").click()
    panel = page.locator("#forms-new")
    panel.locator("[name=title]").fill("LINE only")
    panel.locator("[name=batch]").fill("2026-12")
    page.get_by_role("checkbox", name="Royce").check()
    select = page.get_by_label("Buyers are known by")
    expect(select.locator("option")).to_have_text(["Email", "Phone number", "LINE ID", "Any one of them"])
    select.select_option("line_id")
    shot(page, "forms-contact-select-en")
    page.locator("#forms-create").click()
    expect(page.locator("#forms-body tr[data-id]")).to_have_count(1)
    forms = ok(api_request(stack, "GET", "/forms", token))["items"]
    assert [(f["title"], f["contact"]) for f in forms] == [("LINE only", "line_id")]
