"""Links that stay the same (issue 25), on a phone in both languages: the Buyers tab copies
a buyer's link twice (and after a reload) and gets the same link; "New link" asks first,
says the old link stops working, and the old one then does; the Forms tab copies a form's
link after a reload, and its "New link" warns the same way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_request, ok, serious, settled, shot

pytestmark = pytest.mark.e2e

BUYER = "林志明"
FORM = "抹茶團 Matcha"
WORDS = {
    "en-US": {
        "buyers": "Buyers",
        "forms": "Forms",
        "copy": f"Copy link of {BUYER}",
        "new": f"New link for {BUYER}",
        "ask": "stops working at once",
        "yes": "Make a new link",
        "copied": "Link copied.",
        "same": "the same every time",
        "renewed": "the old one no longer works",
        "form_copy": f"Copy link of {FORM}",
        "form_new": f"New link for {FORM}",
        "form_ask": "The old link stops working at once",
    },
    "zh-TW": {
        "buyers": "買家",
        "forms": "表單",
        "copy": f"複製連結（{BUYER}）",
        "new": f"更換連結（{BUYER}）",
        "ask": "會立刻失效",
        "yes": "更換連結",
        "copied": "已複製連結。",
        "same": "每次都相同",
        "renewed": "舊連結已失效",
        "form_copy": f"複製連結（{FORM}）",
        "form_new": f"更換連結（{FORM}）",
        "form_ask": "舊連結會立即失效",
    },
}


def clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def token_of(url):
    return url.split("#")[1]


def tab(page, name):
    page.get_by_role("tab", name=name).click()


def copy_buyer_link(page, w):
    """Press "Copy link" on the buyer's row: the link shown, which is also the clipboard's."""
    page.locator("#link-box").evaluate("(el) => el.replaceChildren()")
    page.get_by_role("button", name=w["copy"]).click()
    box = page.locator("#link-box")
    expect(box.locator(".link-status")).to_have_text(w["copied"])
    url = box.locator("a.link-url").inner_text()
    assert clipboard(page) == url
    return url


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_buyer_and_form_links_stay_the_same_on_a_phone(stack, seller_page, locale):
    w = WORDS[locale]
    lang = locale[:2]
    page = seller_page(locale=locale, viewport=PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    token = page.evaluate("localStorage.getItem('token')")
    buyer = ok(
        api_request(stack, "POST", "/customers", token, {"name": BUYER, "email": "lin@example.com"}), 201
    )
    item = ok(api_request(stack, "POST", "/items", token, {"item_name": "Pocky", "price": 100}), 201)
    form = ok(
        api_request(
            stack, "POST", "/forms", token, {"batch": "B", "title": FORM, "items": [{"item_id": item["id"]}]}
        ),
        201,
    )
    page.reload()
    problems: list[str] = []

    # --- the buyer's link: the same however often it is copied --------------------------
    tab(page, w["buyers"])
    first = copy_buyer_link(page, w)
    assert "/track.html?shop=" in first
    expect(page.locator("#link-box")).to_contain_text(w["same"])
    assert copy_buyer_link(page, w) == first
    settled(page, PHONE["width"])
    problems += serious(page, f"buyers tab, a link copied, {lang} 375")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#link-box").scroll_into_view_if_needed()
    shot(page, f"links-buyer-copied-phone-{lang}", full_page=False)
    page.reload()
    tab(page, w["buyers"])
    assert copy_buyer_link(page, w) == first  # after a reload too
    assert ok(api_request(stack, "GET", f"/track/{token_of(first)}"))["buyer_name"] == BUYER

    # --- "New link": asked first, the old link then stops working ------------------------
    page.get_by_role("button", name=w["new"]).click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text(w["ask"])
    settled(page, PHONE["width"])
    shot(page, f"links-buyer-new-ask-phone-{lang}", full_page=False)
    dialog.get_by_role("button", name=w["yes"]).click()
    box = page.locator("#link-box")
    expect(box).to_contain_text(w["renewed"])
    expect(box.locator(".link-status")).to_have_text(w["copied"])
    renewed = box.locator("a.link-url").inner_text()
    assert renewed != first and clipboard(page) == renewed
    assert api_request(stack, "GET", f"/track/{token_of(first)}")[0] == 404
    assert copy_buyer_link(page, w) == renewed  # and it stays the new one
    assert copy_buyer_link(page, w) == renewed
    links = ok(api_request(stack, "GET", f"/customers/{buyer['id']}/tracking-links", token))["items"]
    assert [x["kind"] for x in links] == ["seller"]

    # --- the form's link: copied again after a reload ----------------------------------
    tab(page, w["forms"])
    row = page.locator("#forms-body tr[data-id]", has_text=FORM)
    row.get_by_role("button", name=w["form_copy"]).click()
    expect(page.locator("#forms-msg")).to_contain_text(w["copied"])
    assert clipboard(page) == form["url"]
    page.reload()
    tab(page, w["forms"])
    page.evaluate("navigator.clipboard.writeText('')")
    row.get_by_role("button", name=w["form_copy"]).click()
    expect(page.locator("#forms-msg")).to_contain_text(w["copied"])
    assert clipboard(page) == form["url"]
    settled(page, PHONE["width"])
    problems += serious(page, f"forms tab, a link copied after a reload, {lang} 375")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"links-form-copied-phone-{lang}")

    row.get_by_role("button", name=w["form_new"]).click()
    expect(page.locator("dialog.confirm-dialog")).to_contain_text(w["form_ask"])
    page.locator("dialog.confirm-dialog").get_by_role("button", name=w["yes"]).click()
    new_url = page.locator("#forms-link-box .form-link-url").input_value()
    assert new_url != form["url"]
    assert api_request(stack, "GET", f"/f/{token_of(form['url'])}")[0] == 404
    page.reload()
    tab(page, w["forms"])
    row.get_by_role("button", name=w["form_copy"]).click()
    expect(page.locator("#forms-msg")).to_contain_text(w["copied"])
    assert clipboard(page) == new_url
    assert not problems, "\n".join(problems)
