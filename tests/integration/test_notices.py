"""Notices to a batch (issue 29; contract "Group buys"): each buyer with live orders in the
batch gets their own text (only their orders, their balance, the shop's payment
instructions, their seller link), by email once per buyer per notice where they have one
and did not opt out; LINE sends are ticked. Three lanes (the `api` fixture)."""

from __future__ import annotations

from urllib.parse import quote

from chalicelib.platform import db
from tests.factories import make_customer, make_order, make_payment

BATCH = "2026-12 東京"
PATH = f"/batches/{quote(BATCH)}/notices"
PAY = "台新銀行 (812) 1234-567-890"


def setup_batch(api, token):
    """Amy (email), Bo (LINE only), Cy (email, opted out) in the batch; Dee only in
    another batch; Eve's one order in the batch is cancelled."""
    api.patch("/auth/me", {"payment_instructions": PAY}, token=token)
    amy = make_customer(api, token, name="Amy", email="amy@example.com")
    bo = make_customer(api, token, name="Bo", email=None, line_id="bo.tw")
    cy = make_customer(api, token, name="Cy", email="cy@example.com")
    r = api.patch(f"/customers/{cy['id']}", {"notices_opt_out": True}, token=token)
    assert r.status == 200 and r.json["notices_opt_out"] is True
    dee = make_customer(api, token, name="Dee", email="dee@example.com")
    eve = make_customer(api, token, name="Eve", email="eve@example.com")
    make_order(
        api, token, customer_id=amy["id"], item_name="東京ばな奈", unit_price=300, quantity=2, batch=BATCH
    )
    make_order(api, token, customer_id=amy["id"], item_name="白い恋人", unit_price=250, batch=BATCH)
    make_order(
        api, token, customer_id=amy["id"], item_name="Older thing", unit_price=100, batch="2026-11 首爾"
    )
    make_order(api, token, customer_id=bo["id"], item_name="Royce 生巧克力", unit_price=400, batch=BATCH)
    make_order(api, token, customer_id=cy["id"], item_name="Kit Kat 抹茶", unit_price=150, batch=BATCH)
    make_order(
        api, token, customer_id=dee["id"], item_name="Dee's secret", unit_price=999, batch="2026-11 首爾"
    )
    gone = make_order(
        api, token, customer_id=eve["id"], item_name="Eve's cancelled", unit_price=50, batch=BATCH
    )
    api.patch(f"/orders/{gone['id']}", {"fulfillment_status": "cancelled"}, token=token)
    return amy, bo, cy, dee, eve


def to(ses, address):
    return [m for m in ses if address in m.destinations["ToAddresses"]]


def test_each_buyer_gets_their_own_text_and_one_email(api, token, ses):
    amy, bo, cy, dee, eve = setup_batch(api, token)
    make_payment(api, token, bo["id"], 400)  # Bo paid everything
    charge = {"customer_id": amy["id"], "amount": 60, "kind": "shipping"}
    assert api.post("/charges", charge, token=token).status == 201  # owed, though no order line
    r = api.post(PATH, {"kind": "payment_due", "message": "週五前匯款喔！"}, token=token)
    assert r.status == 201, r
    by = {x["customer_id"]: x for x in r.json["recipients"]}
    assert set(by) == {amy["id"], bo["id"], cy["id"]}  # not Dee (other batch), not Eve (cancelled)
    a, b, c = by[amy["id"]], by[bo["id"]], by[cy["id"]]
    # Only her orders of this batch, each line short, the link alone on its line.
    assert "・東京ばな奈 ×2（待採購）" in a["line_text"] and "・白い恋人 ×1（待採購）" in a["line_text"]
    for other in ("Royce", "Kit Kat", "Dee's secret", "Eve's", "Older thing"):
        assert other not in a["line_text"]
    assert "Royce" in b["line_text"] and "東京ばな奈" not in b["line_text"]
    # Her balance is the tracking page's: both batches and her charge (850 + 100 + 60).
    assert a["balance"] == 1010 and "應付金額：NT$1,010" in a["line_text"] and PAY in a["line_text"]
    assert "「2026-12 東京」的尾款" in a["line_text"] and "週五前匯款喔！" in a["line_text"]
    link = api.get(f"/customers/{amy['id']}/tracking-link", token=token).json["url"]
    assert f"\n{link}\n" in a["line_text"]
    page = api.get(f"/track/{link.split('#')[1]}").json
    assert page["balance"] == a["balance"]
    assert "<" not in a["line_text"] and max(len(line) for line in a["line_text"].splitlines()) <= 80
    # Bo owes nothing: still told, and told so; no email (LINE only).
    assert b["balance"] == 0 and "目前沒有待付款項" in b["line_text"] and PAY not in b["line_text"]
    assert (a["emailed"], b["emailed"], c["emailed"]) == (True, False, False)
    assert (b["email_state"], c["email_state"]) == ("skipped", "skipped")
    (mail,) = to(ses, "amy@example.com")
    assert len(ses) == 1 and "Royce" not in mail.body and link in mail.body
    assert r.json["counts"] == {"recipients": 3, "emailed": 1, "line_sent": 0}


def test_a_retry_with_the_key_emails_nobody_twice(api, token, ses):
    amy, *_ = setup_batch(api, token)
    key = {"Idempotency-Key": "notice-1"}
    first = api.post(PATH, {"kind": "arrived"}, token=token, headers=key)
    again = api.post(PATH, {"kind": "arrived"}, token=token, headers=key)
    assert (first.status, again.status) == (201, 200) and first.json["id"] == again.json["id"]
    assert len(to(ses, "amy@example.com")) == 1 and len(ses) == 1
    assert db.get_db().notices.count_documents({}) == 1
    # A second notice (another call, no key) is another notice: one more email to Amy.
    second = api.post(PATH, {"kind": "custom", "message": "<b>明天</b> 面交"}, token=token)
    assert second.status == 201 and len(to(ses, "amy@example.com")) == 2
    mine = next(x for x in second.json["recipients"] if x["customer_id"] == amy["id"])
    assert "<b>明天</b> 面交" in mine["line_text"]  # plain text keeps what she typed
    body = to(ses, "amy@example.com")[1].body  # moto keeps the HTML part
    assert "&lt;b&gt;明天&lt;/b&gt;" in body and "<b>明天" not in body


def test_ticks_are_idempotent_and_unknown_ids_refused(api, token):
    amy, bo, cy, dee, eve = setup_batch(api, token)
    notice = api.post(PATH, {"kind": "arrived", "message": "可以來取貨了"}, token=token).json
    sent = f"{PATH}/{notice['id']}/sent"
    r = api.post(sent, {"customer_ids": [bo["id"]]}, token=token)
    assert r.status == 200 and r.json["counts"]["line_sent"] == 1
    first_at = next(x for x in r.json["recipients"] if x["customer_id"] == bo["id"])["line_sent_at"]
    again = api.post(sent, {"customer_ids": [bo["id"], amy["id"]]}, token=token).json
    ticks = {x["customer_id"]: x["line_sent_at"] for x in again["recipients"]}
    assert ticks[bo["id"]] == first_at and ticks[amy["id"]] and ticks[cy["id"]] is None
    bad = api.post(sent, {"customer_ids": [cy["id"], dee["id"], eve["id"]]}, token=token)
    assert bad.status == 400, bad
    named = {d["message"] for d in bad.json["error"]["details"]}
    assert named == {dee["id"], eve["id"]} and {d["code"] for d in bad.json["error"]["details"]} == {
        "not_a_recipient"
    }
    assert (
        db.get_db().notice_recipients.count_documents({"line_sent_at": {"$ne": None}}) == 2
    )  # Cy not ticked
    listed = api.get(PATH, token=token)
    assert listed.status == 200
    (row,) = listed.json["items"]
    assert row["id"] == notice["id"] and row["counts"] == {"recipients": 3, "emailed": 0, "line_sent": 2}


def test_notices_are_listed_newest_first(api, token):
    setup_batch(api, token)
    one = api.post(PATH, {"kind": "arrived"}, token=token).json
    two = api.post(PATH, {"kind": "payment_due"}, token=token).json
    items = api.get(PATH, token=token).json["items"]
    assert [n["id"] for n in items] == [two["id"], one["id"]]
    assert api.get(f"/batches/{quote('2026-11 首爾')}/notices", token=token).json["items"] == []


def test_bad_notices_write_nothing(api, token, other_token, ses):
    setup_batch(api, token)
    cases = [
        ({"kind": "sale"}, 400, "kind"),
        ({"kind": "custom"}, 400, "message"),
        ({"kind": "custom", "message": "   "}, 400, "message"),
        ({"kind": "arrived", "message": ""}, 400, "message"),
        ({"kind": "arrived", "extra": 1}, 400, "extra"),
    ]
    for body, status, field in cases:
        r = api.post(PATH, body, token=token)
        assert r.status == status, (body, r)
        assert field in {d.get("field") for d in r.json["error"]["details"]}, r.json
    r = api.post(f"/batches/{quote('沒有這團')}/notices", {"kind": "arrived"}, token=token)
    assert r.status == 404, r
    # Another seller's batch is theirs to notify, not ours: 404, and nothing of theirs is read.
    r = api.post(PATH, {"kind": "arrived"}, token=other_token)
    assert r.status == 404, r
    assert db.get_db().notices.count_documents({}) == 0
    assert db.get_db().notice_recipients.count_documents({}) == 0 and ses == []


def test_another_sellers_notice_is_404(api, token, other_token):
    setup_batch(api, token)
    notice = api.post(PATH, {"kind": "arrived"}, token=token).json
    r = api.post(
        f"{PATH}/{notice['id']}/sent",
        {"customer_ids": [notice["recipients"][0]["customer_id"]]},
        token=other_token,
    )
    assert r.status == 404, r
    assert api.get(PATH, token=other_token).json["items"] == []
    assert db.get_db().notice_recipients.count_documents({"line_sent_at": {"$ne": None}}) == 0


def test_a_batch_with_only_cancelled_orders_has_nobody_to_tell(api, token):
    c = make_customer(api, token, name="Eve", email="eve@example.com")
    o = make_order(api, token, customer_id=c["id"], batch=BATCH)
    api.patch(f"/orders/{o['id']}", {"fulfillment_status": "cancelled"}, token=token)
    r = api.post(PATH, {"kind": "arrived"}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "no_recipients"
    assert db.get_db().notices.count_documents({}) == 0


def test_english_shop_text(api, token):
    api.patch("/auth/me", {"language": "en"}, token=token)
    c = make_customer(api, token, name="Mei", email=None, line_id="mei")
    make_order(api, token, customer_id=c["id"], item_name="Matcha", quantity=3, unit_price=100, batch=BATCH)
    (r,) = api.post(PATH, {"kind": "arrived"}, token=token).json["recipients"]
    assert r["line_text"].startswith("Hello Mei,\n\nYour goods from 2026-12 東京 have arrived!")
    assert "- Matcha x3 (to buy)" in r["line_text"] and "To pay: NT$300" in r["line_text"]


def test_the_opt_out_is_a_switch_of_the_buyer(api, token):
    c = make_customer(api, token, name="Amy", email="amy@example.com")
    assert c["notices_opt_out"] is False
    r = api.patch(f"/customers/{c['id']}", {"notices_opt_out": None}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "notices_opt_out"
    r = api.patch(f"/customers/{c['id']}", {"notices_opt_out": "yes"}, token=token)
    assert r.status == 400
    assert api.get(f"/customers/{c['id']}", token=token).json["notices_opt_out"] is False
    make_order(api, token, customer_id=c["id"], batch=BATCH)
    api.patch(f"/customers/{c['id']}", {"notices_opt_out": True}, token=token)
    (r,) = api.post(PATH, {"kind": "arrived"}, token=token).json["recipients"]
    assert (r["emailed"], r["email_state"]) == (False, "skipped") and "Tea ×1" in r["line_text"]


def test_the_buyer_opts_out_from_their_link(api, token, ses):
    """The email says how to stop; the buyer's link switches it off (and on again); a form
    submission's link, which a stranger who typed her email may hold, may not (403)."""
    amy = make_customer(api, token, name="Amy", email="amy@example.com")
    make_order(api, token, customer_id=amy["id"], batch=BATCH)
    assert api.post(PATH, {"kind": "arrived"}, token=token).status == 201
    (first,) = to(ses, "amy@example.com")
    assert "不想再收到批次通知 Email" in first.body
    link = api.get(f"/customers/{amy['id']}/tracking-link", token=token).json["token"]
    off = f"/track/{link}/notices-opt-out"
    for bad in ({}, {"opt_out": "yes"}, {"opt_out": True, "x": 1}):
        r = api.post(off, bad)
        assert r.status == 400, (bad, r)
    assert api.post(f"/track/{'x' * 43}/notices-opt-out", {"opt_out": True}).status == 404
    assert api.get(f"/customers/{amy['id']}", token=token).json["notices_opt_out"] is False
    r = api.post(off, {"opt_out": True})
    assert r.status == 200 and r.json == {"notices_opt_out": True}
    assert api.get(f"/customers/{amy['id']}", token=token).json["notices_opt_out"] is True
    (mine,) = api.post(PATH, {"kind": "arrived"}, token=token).json["recipients"]
    assert mine["email_state"] == "skipped" and len(to(ses, "amy@example.com")) == 1
    assert api.post(off, {"opt_out": False}).json == {"notices_opt_out": False}
    (mine,) = api.post(PATH, {"kind": "arrived"}, token=token).json["recipients"]
    assert mine["emailed"] and len(to(ses, "amy@example.com")) == 2

    # A stranger submits a form with Amy's email: that link shows their submission only.
    item = api.post("/items", {"item_name": "Pocky", "price": 100, "stock": 5}, token=token).json
    form = api.post(
        "/forms", {"batch": "B1", "title": "團購", "items": [{"item_id": item["id"]}]}, token=token
    ).json
    body = {"name": "Stranger", "email": "amy@example.com", "lines": [{"item_id": item["id"], "quantity": 1}]}
    sub = api.post(f"/f/{form['url'].split('#')[1]}/orders", body)
    assert sub.status == 201, sub
    scoped = sub.json["tracking_url"].split("#")[1]
    assert api.get(f"/track/{scoped}").json["scope"] == "submission"
    r = api.post(f"/track/{scoped}/notices-opt-out", {"opt_out": True})
    assert r.status == 403 and r.json["error"]["code"] == "forbidden"
    assert api.get(f"/customers/{amy['id']}", token=token).json["notices_opt_out"] is False
