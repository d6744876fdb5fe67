"""Issue 29, reminders to the buyers who asked: the public form's box "Send me a reminder
before this form closes, and if I still owe after it" / 「截止前、截止後仍有待付款時，寄信
提醒我」 (by email only, the hint says) on a phone (375 px), in English and in 繁體中文. Off by default; reminders go by
email only, so it can be ticked once an email is typed (a LINE ID alone leaves it off).
The schedule (`python -m chalicelib.manage schedule --once`, what `make run` runs) then
emails the buyer who ticked it, once however often it runs, and not the one who did not.
The waitlist box has the same box; the order a served entry becomes carries the ask."""

from __future__ import annotations

import datetime as dt
import email
import subprocess
import sys
import uuid
from email import policy

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, ROOT, api_request, api_seller, ok, serious, settled, shot
from tests.e2e.test_forms_page import small_targets

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {
        "locale": "en-US",
        "remind": "Send me a reminder before this form closes, and if I still owe after it",
        "hint": "By email only, to the address above: type it to turn this on.",
        "more": "One more Pocky",
        "submit": "Place order",
        "subject": "closes soon",
    },
    "zh-Hant": {
        "locale": "zh-TW",
        "remind": "截止前、截止後仍有待付款時，寄信提醒我",
        "hint": "只以 Email 寄到上面的信箱：填寫 Email 後才能勾選。",
        "more": "Pocky 加一件",
        "submit": "送出訂單",
        "subject": "即將截止",
    },
}


def form_closing_in_3h(stack, token, item, title):
    """A form of one item, any contact, closing in 3 hours: its public URL."""
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).replace(microsecond=0)
    body = {
        "batch": "2026-12",
        "title": title,
        "items": [{"item_id": item["id"]}],
        "contact": "any",
        "closes_at": closes.isoformat(),
    }
    return ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]


def schedule_once(stack):
    subprocess.run(
        [sys.executable, "-m", "chalicelib.manage", "schedule", "--once"],
        cwd=ROOT,
        env={**stack.api.env, "MAIL_OUTBOX": str(stack.outbox)},
        check=True,
        capture_output=True,
        timeout=120,
    )


def reminded(stack, word):
    """The addresses the outbox's messages whose subject has `word` went to."""
    out = []
    for path in sorted(stack.outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if word in str(msg["Subject"]):
            out.append(str(msg["To"]))
    return out


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_buyer_asks_for_reminders_on_a_phone_and_only_she_is_reminded(
    stack, open_page, fresh_submissions, language
):
    texts = TEXTS[language]
    tag = uuid.uuid4().hex[:8]
    amy, cy = f"amy-{tag}@example.com", f"cy-{tag}@example.com"
    token = api_seller(stack, shop="東京代購", language=language)
    pocky = ok(
        api_request(stack, "POST", "/items", token, {"item_name": "Pocky", "price": 120, "stock": 10}), 201
    )
    url = form_closing_in_3h(stack, token, pocky, f"提醒 {tag}")

    page = open_page(viewport=PHONE, locale=texts["locale"])
    page.goto(url)
    box = page.get_by_role("checkbox", name=texts["remind"])
    expect(box).to_be_visible()
    expect(page.locator("#of-remind-hint")).to_have_text(texts["hint"])
    expect(box).to_be_disabled()  # no email yet: nothing to remind by
    expect(box).not_to_be_checked()
    page.locator("#of-name").fill("林小美")
    page.locator("#of-line_id").fill(f"amy_{tag}")
    expect(box).to_be_disabled()  # a LINE ID alone: still nothing to remind by
    page.locator("#of-email").fill(amy)
    expect(box).to_be_enabled()
    expect(box).not_to_be_checked()  # off until she asks
    page.locator("#of-email").fill("")
    expect(box).to_be_disabled()
    page.locator("#of-email").fill(amy)
    page.locator("label[for=of-remind]").click()  # the text is a target too
    expect(box).to_be_checked()
    page.get_by_role("button", name=texts["more"]).click()
    settled(page, 375)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not small_targets(page), small_targets(page)
    assert box.evaluate("e => e.getBoundingClientRect().height") >= 44
    problems = serious(page, f"form reminders {language} 375")
    shot(page, f"form-remind-{language}", full_page=False)
    page.get_by_role("button", name=texts["submit"]).click()
    page.wait_for_url("**/track.html#*")

    # Cy orders without asking.
    form_token = url.split("#")[1]
    order = {"name": "Cy", "email": cy, "lines": [{"item_id": pocky["id"], "quantity": 1}]}
    ok(api_request(stack, "POST", f"/f/{form_token}/orders", None, order), 201)

    schedule_once(stack)
    schedule_once(stack)
    assert [a for a in reminded(stack, texts["subject"]) if tag in a] == [amy]
    assert not problems, "\n".join(problems)


WAITLIST = {
    "en": {
        "notify": "Notify me when back",
        "join": "Join the waitlist",
        "place": "You are number 1 in line.",
    },
    "zh-Hant": {"notify": "補貨通知我", "join": "加入候補", "place": "您是候補第 1 位。"},
}


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_waitlist_buyer_asks_for_reminders_and_gets_one_once_served(
    stack, open_page, fresh_submissions, language
):
    """The waitlist box has the same box (by email only); the order the entry becomes
    carries the ask, so the schedule reminds her."""
    texts, words = TEXTS[language], WAITLIST[language]
    tag = uuid.uuid4().hex[:8]
    amy = f"wamy-{tag}@example.com"
    token = api_seller(stack, shop="東京代購", language=language)
    item = ok(
        api_request(stack, "POST", "/items", token, {"item_name": "Royce", "price": 450, "stock": 1}), 201
    )
    url = form_closing_in_3h(stack, token, item, f"候補提醒 {tag}")
    first = {"name": "先買的", "line_id": f"first_{tag}", "lines": [{"item_id": item["id"], "quantity": 1}]}
    ok(api_request(stack, "POST", f"/f/{url.split('#')[1]}/orders", None, first), 201)

    page = open_page(viewport=PHONE, locale=texts["locale"])
    page.goto(url)
    card = page.locator("#of-items .of-item").first
    card.get_by_role("button", name=words["notify"]).click()
    box = card.locator(".of-w-form")
    remind = box.get_by_role("checkbox", name=texts["remind"])
    expect(remind).to_be_disabled()
    box.locator("[name=name]").fill("林小美")
    box.locator("[name=line_id]").fill(f"amy_{tag}")
    expect(remind).to_be_disabled()  # a LINE ID alone: nothing to remind by
    box.locator("[name=email]").fill(amy)
    expect(remind).to_be_enabled()
    remind.check()
    settled(page, 375)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box.get_by_role("button", name=words["join"]).click()
    expect(card.locator(".of-w-msg")).to_contain_text(words["place"])

    ok(api_request(stack, "PATCH", f"/items/{item['id']}", token, {"stock": 1}))  # served now
    schedule_once(stack)
    assert [a for a in reminded(stack, texts["subject"]) if tag in a] == [amy]
