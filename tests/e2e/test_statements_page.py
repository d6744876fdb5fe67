"""The payments tab's bank statement card (對帳, issue 28), as a seller on a phone uses it: 25
buyers owe money and 20 of them reported their transfer; the bank's Big5 CSV is uploaded;
the 20 confident proposals are ticked and confirmed in one tap, one unmatched row is given
to a buyer by hand. The API then shows each reported payment confirmed once, one payment
recorded for the hand-assigned row, and the rows still to match counted on the tab (繁中 and
English at 375×667). A file with headers the reader does not know is mapped once in a small
form, and its next upload needs no mapping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, api_call, pick_buyer, scroll_still, serious, settled, shot
from tests.statement_files import statement_csv, statement_xlsx

pytestmark = pytest.mark.e2e

PHONE_SE = {"width": 375, "height": 667}
SLOW = 30_000  # an upload read and 20 rows applied, on a busy shared machine
WORDS = {
    "en": {
        "tab": "Payments",
        "upload": "Upload",
        "confirm": "Confirm 20 rows",
        "confirmed": "Confirmed 20 rows",
        "assign": "Assign…",
        "record": "Record payment",
        "recorded": "recorded as",
        "via": "from the bank statement",
        "proposal": "reported a transfer of NT$1,000 from 10000",
        "badge": "{n} bank statement rows to match",
    },
    "zh": {
        "tab": "收款",
        "upload": "上傳",
        "confirm": "確認 20 筆",
        "confirmed": "已確認 20 筆",
        "assign": "指定買家…",
        "record": "記錄收款",
        "recorded": "已記為",
        "via": "銀行對帳",
        "proposal": "回報匯款 NT$1,000，帳號後五碼 10000",
        "badge": "{n} 筆銀行明細待對帳",
    },
}
BUYERS = 25
REPORTED = 20
HAND = 22  # the buyer an unmatched row is given to by hand


def amount_of(i: int) -> int:
    """Buyer i's order total, each buyer's different (a balance names one buyer)."""
    return 1000 + 37 * i


def last5_of(i: int) -> str:
    return f"{10000 + 373 * i:05d}"


def seed(stack, token, n=BUYERS, reported=REPORTED):
    """n buyers with one order each; the first `reported` report a bank transfer of their
    total from their own account, dated one to three days ago. {i: buyer}."""
    today = dt.date.today()
    buyers = {}
    for i in range(n):
        order = api_call(
            stack,
            "POST",
            "/orders",
            token,
            {
                "buyer_email": f"buyer{i:02d}@example.com",
                "buyer_name": f"買家{i:02d} 陳",
                "item_name": "東京香蕉",
                "quantity": 1,
                "unit_price": amount_of(i),
            },
        )
        buyer = {
            "customer_id": order["customer_id"],
            "paid_at": (today - dt.timedelta(days=1 + i % 3)).isoformat(),
        }
        if i < reported:
            link = api_call(stack, "POST", f"/customers/{order['customer_id']}/tracking-link", token)
            api_call(
                stack,
                "POST",
                f"/track/{link['token']}/payments",
                None,
                {"amount": amount_of(i), "paid_at": buyer["paid_at"], "account_last5": last5_of(i)},
            )
        buyers[i] = buyer
    # The buyer's answer names no id: the seller's list does.
    reported_ids = {p["customer_id"]: p["id"] for p in payments(stack, token, status="reported")}
    for buyer in buyers.values():
        buyer["payment_id"] = reported_ids.get(buyer["customer_id"])
    assert sum(1 for b in buyers.values() if b["payment_id"]) == reported
    return buyers


def statement_rows(buyers, reported=REPORTED):
    """The bank's rows: each reported transfer as the bank lists it (ROC-style slashes, a
    masked account), a withdrawal, and three incoming transfers nobody reported."""
    slash = lambda iso: iso.replace("-", "/")  # noqa: E731
    rows = [
        {
            "date": slash(buyers[i]["paid_at"]),
            "deposit": f"{amount_of(i):,}",
            "memo": "跨行轉入",
            "account": f"822-****{last5_of(i)}",
        }
        for i in range(reported)
    ]
    today = slash(dt.date.today().isoformat())
    rows.insert(5, {"date": today, "withdrawal": "3,000", "memo": "提款"})
    rows += [
        {"date": today, "deposit": "500", "memo": "ATM轉入", "account": "013-****55555"},
        {"date": today, "deposit": "88", "memo": "利息"},
        {"date": today, "deposit": "4,321", "memo": "無摺存款"},
    ]
    return rows


def payments(stack, token, **query):
    q = "&".join(f"{k}={v}" for k, v in {"limit": 200, **query}.items())
    return api_call(stack, "GET", f"/payments?{q}", token)["items"]


def open_payments_tab(page, w):
    page.get_by_role("tab", name=re.compile(w["tab"])).click()
    expect(page.locator("#stmt-upload")).to_be_visible()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(page, w, name, data):
    """Choose the file (with the type a browser gives it) and press Upload."""
    kind = XLSX if name.endswith(".xlsx") else "text/csv"
    page.locator("#stmt-upload [name=file]").set_input_files(
        files=[{"name": name, "mimeType": kind, "buffer": data}]
    )
    page.locator("#stmt-upload").get_by_role("button", name=w["upload"]).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_big5_statement_is_matched_confirmed_and_assigned_on_a_phone(stack, seller_page, lang):
    w = WORDS[lang]
    page = seller_page(locale="zh-TW" if lang == "zh" else "en-US", viewport=PHONE_SE)
    token = page.evaluate("localStorage.getItem('token')")
    buyers = seed(stack, token)
    data = statement_csv(statement_rows(buyers), encoding="cp950")
    data.decode("cp950")  # the bank's Big5, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    open_payments_tab(page, w)
    expect(page.locator("#stmt-rows tbody")).to_contain_text(
        "沒有待對帳的明細" if lang == "zh" else "Nothing to match"
    )
    upload(page, w, "台新銀行交易明細.csv", data)
    rows = page.locator("#stmt-rows tbody tr")
    expect(rows).to_have_count(23, timeout=SLOW)
    expect(page.locator("#stmt-msg")).to_contain_text("23")
    # Only the confident proposals are ticked: the 20 reported transfers, none of the others.
    expect(page.locator("#stmt-rows .stmt-tick:checked")).to_have_count(REPORTED)
    expect(page.locator("#stmt-badge")).to_have_attribute("title", w["badge"].format(n=23))
    first = rows.filter(has_text=w["proposal"])
    expect(first).to_have_count(1)
    expect(first.locator(".stmt-tick")).to_be_checked()
    unmatched = rows.filter(has_text="NT$500")
    expect(unmatched.locator(".stmt-tick")).to_have_count(0)  # nothing to tick without a proposal
    settled(page)
    assert serious(page, f"statements {lang} 375") == []

    # Scrolled down to the rows, "Confirm 20" stays at the bottom of the screen, in a
    # thumb's reach, while they scroll under it.
    rows.nth(1).scroll_into_view_if_needed()
    scroll_still(page)
    if lang == "zh":
        shot(page, "statement-rows-zh-375", full_page=False)
    confirm = page.locator("#stmt-confirm")
    expect(confirm).to_have_text(w["confirm"])
    box = confirm.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE_SE["height"] and box["y"] > PHONE_SE["height"] / 2, box
    assert box["height"] >= 44 and box["width"] >= 300, box
    confirm.click()
    expect(page.locator("#flash")).to_contain_text(w["confirmed"], timeout=SLOW)
    expect(rows).to_have_count(3)
    expect(page.locator("#stmt-badge")).to_have_attribute("title", w["badge"].format(n=3))
    expect(page.locator("#pay-badge")).to_be_hidden()  # the 20 reports are confirmed

    # The NT$500 nobody reported is buyer 22's: given by hand with the buyer picker.
    unmatched.get_by_role("button", name=re.compile(w["assign"].rstrip("…"))).click()
    pick_buyer(page, "stmt-assign-buyer", "buyer22@", "買家22")
    page.locator("#stmt-rows .stmt-assign-form").get_by_role("button", name=w["record"]).click()
    expect(page.locator("#flash")).to_contain_text(w["recorded"])
    expect(rows).to_have_count(2)
    # The payments list names where the hand-assigned payment came from.
    expect(page.locator("#pay-list tbody tr").filter(has_text="NT$500")).to_contain_text(w["via"])
    expect(page.locator("#stmt-badge")).to_have_attribute("title", w["badge"].format(n=2))

    # Through the API: each report confirmed once, one new payment for buyer 22, 2 rows left.
    confirmed = payments(stack, token, status="confirmed")
    assert sorted(p["id"] for p in confirmed if p["source"] == "buyer") == sorted(
        buyers[i]["payment_id"] for i in range(REPORTED)
    )
    assert payments(stack, token, status="reported") == []
    for i in range(REPORTED):
        theirs = payments(stack, token, customer_id=buyers[i]["customer_id"])
        assert [(p["status"], p["amount"]) for p in theirs] == [("confirmed", amount_of(i))], (i, theirs)
    hand = payments(stack, token, customer_id=buyers[HAND]["customer_id"])
    assert [(p["status"], p["amount"], p["account_last5"]) for p in hand] == [("confirmed", 500, "55555")]
    assert len(confirmed) == REPORTED + 1
    still = api_call(stack, "GET", "/statements/open", token)
    assert still["count"] == 2 and sorted(r["amount"] for r in still["rows"]) == [88, 4321]


def test_unknown_columns_are_mapped_once(stack, seller_page):
    w = WORDS["en"]
    page = seller_page(locale="en-US", viewport=DESKTOP)
    token = page.evaluate("localStorage.getItem('token')")
    buyers = seed(stack, token, n=4, reported=3)
    headers = {
        "date": "Value day",
        "memo": "Text",
        "withdrawal": "Out",
        "deposit": "In",
        "balance": "Left",
        "account": "Who",
    }
    # Excel's .xlsx this time (the phone tests send the Big5 CSV).
    data = statement_xlsx(statement_rows(buyers, reported=3), preamble=False, headers=headers)

    open_payments_tab(page, w)
    # A file that is no statement (an old .xls, a PDF) is refused in the page's words.
    upload(page, w, "statement.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    expect(page.locator("#stmt-msg .alert-danger")).to_contain_text("This is not a CSV or .xlsx file")
    expect(page.locator("#stmt-rows tbody")).to_contain_text("Nothing to match")

    upload(page, w, "export.xlsx", data)
    form = page.locator("#stmt-mapping form")
    expect(form).to_be_visible()
    expect(form).to_contain_text("export.xlsx")
    assert serious(page, "statement mapping en 1280") == []
    for field, header in (("date", "Value day"), ("amount", "In"), ("memo", "Text"), ("account", "Who")):
        form.locator(f"select[name={field}]").select_option(header)
    form.get_by_role("button", name="Read the file again").click()
    rows = page.locator("#stmt-rows tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#stmt-mapping form")).to_have_count(0)
    expect(page.locator("#stmt-rows .stmt-tick:checked")).to_have_count(3)
    settled(page)
    shot(page, "statement-rows-en-1280")

    # Another tab confirms buyer 0's row meanwhile: "Confirm 3" applies the other two and
    # names the row it could not apply, and why.
    mine = next(
        r for r in api_call(stack, "GET", "/statements/open", token)["rows"] if r["amount"] == amount_of(0)
    )
    other_tab = {
        "row": mine["row"],
        "customer_id": buyers[0]["customer_id"],
        "payment_id": buyers[0]["payment_id"],
    }
    api_call(stack, "POST", f"/statements/{mine['statement_id']}/apply", token, {"rows": [other_tab]})
    page.get_by_role("button", name="Confirm 3 rows").click()
    flash = page.locator("#flash")
    expect(flash).to_contain_text("Confirmed 2 rows", timeout=SLOW)
    expect(flash.locator(".stmt-failed")).to_contain_text(
        re.compile(rf"^Row {mine['row']} \(.*NT\$1,000\): already confirmed$")
    )
    expect(rows).to_have_count(3)
    # The bank's interest is no buyer's money: dismissed.
    rows.filter(has_text="NT$88").get_by_role("button", name="Dismiss").click()
    expect(flash).to_contain_text("Dismissed: NT$88")
    expect(rows).to_have_count(2)
    confirmed = payments(stack, token, status="confirmed")
    assert sorted(p["customer_id"] for p in confirmed) == sorted(buyers[i]["customer_id"] for i in range(3))

    # The same bank's next file is read without asking; rows applied or dismissed stay so.
    upload(page, w, "export-2.xlsx", data)
    expect(page.locator("#stmt-msg")).to_contain_text(
        "export-2.xlsx: 6 incoming transfers read, 0 with a match, 2 without. 4 of them were already confirmed or dismissed."
    )
    expect(page.locator("#stmt-mapping form")).to_have_count(0)
    expect(rows).to_have_count(2)
    assert api_call(stack, "GET", "/statements/open", token)["count"] == 2
    assert len(payments(stack, token, status="confirmed")) == 3
