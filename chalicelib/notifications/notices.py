"""Notices to a batch (issue 29): the seller writes one notice (goods arrived, payment
due, custom text); each buyer with live orders in the batch gets their own version (their
orders in the batch, their balance, the shop's payment instructions, their seller link,
the message) as a LINE-ready text, and by email where they have one.

The one writer of `notices` and `notice_recipients`. A recipient is its own document,
`_id` "<notice id>:<customer id>", written with the notice before any email: its
`email` state goes `pending` -> `sending` (the claim, a conditional update under the
recipient's notify lock) -> `sent`, so a retried request or two sends at once email a
buyer at most once per notice; a refused send goes back to `pending` (a retry of the
request with its Idempotency-Key sends it). `skipped`: no email, opted out
(`notices_opt_out`, or the customer's `notify`, or the shop's `notify_buyers`).

The balance is the tracking page's: the buyer's orders and open charges (all batches,
as on the page the link opens), less their credit (`allocation.due_of`).
"""

from __future__ import annotations

import logging

from bson import ObjectId

from chalicelib.platform import clock, currencies, idempotency, mailer, store
from chalicelib.platform.db import get_db
from chalicelib.platform.errors import NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation
from chalicelib.sales import shopping
from chalicelib.tracking import tracking

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, SKIPPED = "pending", "sending", "sent", "skipped"
MAX_LISTED = 20  # GET .../notices: the newest notices
NEWEST_FIRST = [("created_at", -1), ("_id", -1)]
SELLER_FIELDS = {
    "shop_name": 1,
    "currency": 1,
    "language": 1,
    "payment_instructions": 1,
    "notify_buyers": 1,
}
ORDER_FIELDS = {
    "customer_id": 1,
    "buyer_name": 1,
    "item_name": 1,
    "quantity": 1,
    "total_amount": 1,
    "paid_amount": 1,
    "payment_status": 1,
    "fulfillment_status": 1,
    "order_no": 1,
}

TEXT = {
    "zh-Hant": {
        "hello": "{buyer} 您好：",
        "arrived": "「{batch}」的商品已到貨囉！",
        "payment_due": "「{batch}」的尾款請於近日付清，謝謝！",
        "orders": "您在「{batch}」的訂單：",
        "line": "・{item} ×{qty}（{status}）",
        "due": "應付金額：{amount}",
        "nothing_due": "目前沒有待付款項，謝謝！",
        "pay_how": "付款方式：",
        "link": "查看訂單與付款：",
        "subject": "{shop}：{batch} 通知",
        "opt_out_hint": "不想再收到批次通知 Email？打開上面的連結，在頁面最下方可以關閉。",
        "shortage": "很抱歉，這次採買 {items} 的數量不足，您的訂單 {orders} 已取消。{credit}",
        "shortage_credit": "已付的 {amount} 已轉為您的購物金。",
        "sep": "、",
        "status": {
            "pending": "待採購",
            "purchased": "已採購",
            "shipped": "已出貨",
            "delivered": "已送達",
        },
    },
    "en": {
        "hello": "Hello {buyer},",
        "arrived": "Your goods from {batch} have arrived!",
        "payment_due": "The balance for {batch} is now due, thank you!",
        "orders": "Your orders in {batch}:",
        "line": "- {item} x{qty} ({status})",
        "due": "To pay: {amount}",
        "nothing_due": "Nothing is due from you now, thank you!",
        "pay_how": "How to pay:",
        "link": "Your orders and payments:",
        "subject": "{shop}: news about {batch}",
        "opt_out_hint": "No more batch notices by email? Open the link above: the switch is at the bottom of the page.",
        "shortage": "Sorry: not enough {items} could be bought on this trip, so your orders {orders} are cancelled.{credit}",
        "shortage_credit": " The {amount} you paid is now your credit.",
        "sep": ", ",
        "status": {
            "pending": "to buy",
            "purchased": "bought",
            "shipped": "shipped",
            "delivered": "delivered",
        },
    },
}


def _text_for(language: str | None) -> dict:
    return TEXT.get(language or "") or TEXT[mailer.DEFAULT_LANGUAGE]


def line_text(
    t: dict,
    *,
    buyer: str,
    batch: str,
    kind: str,
    message: str | None,
    orders: list[dict],
    due: str | None,
    payment_instructions: str | None,
    url: str,
) -> str:
    """The buyer's version: short lines, no HTML, the link on its own line (LINE makes it
    tappable). `due` None: nothing to pay, said so (a payment_due notice still reaches
    a buyer who paid everything: the seller sends one notice to the whole batch)."""
    parts = [t["hello"].format(buyer=buyer)]
    if kind in ("arrived", "payment_due"):
        parts.append(t[kind].format(batch=batch))
    if message:
        parts.append(message)
    lines = [t["orders"].format(batch=batch)]
    for o in orders:
        status = t["status"].get(o["fulfillment_status"], o["fulfillment_status"])
        lines.append(t["line"].format(item=o["item_name"], qty=o["quantity"], status=status))
    parts.append("\n".join(lines))
    if due is None:
        parts.append(t["nothing_due"])
    else:
        money = [t["due"].format(amount=due)]
        if payment_instructions:
            money += [t["pay_how"], payment_instructions.strip()]
        parts.append("\n".join(money))
    parts.append(f"{t['link']}\n{url}")
    return "\n\n".join(parts) + "\n"


def _batch_orders(seller_id: ObjectId, name: str) -> list[dict]:
    """The batch's orders; 404 when no order and no batch settings name it."""
    db = get_db()
    docs = list(db.orders.find({"seller_id": seller_id, "batch": name}, ORDER_FIELDS, sort=[("order_no", 1)]))
    if not docs and db.batches.find_one({"seller_id": seller_id, "name": name}, {"_id": 1}) is None:
        raise NotFound("batch not found")
    return docs


def _money_of(seller_id: ObjectId, customer_ids: list) -> tuple[dict, dict]:
    """Per buyer: every payable order and open charge (their debts), and their payments
    holding credit: three reads for the whole batch."""
    db = get_db()
    which = {"seller_id": seller_id, "customer_id": {"$in": customer_ids}}
    debts: dict = {}
    money_fields = {
        "customer_id": 1,
        "total_amount": 1,
        "paid_amount": 1,
        "payment_status": 1,
        "fulfillment_status": 1,
    }
    for doc in db.orders.find(which, money_fields):
        debts.setdefault(doc["customer_id"], []).append(doc)
    charge_fields = {"customer_id": 1, "amount": 1, "paid_amount": 1, "status": 1}
    for doc in db.charges.find({**which, "status": "open"}, charge_fields):
        debts.setdefault(doc["customer_id"], []).append(doc)
    payments: dict = {}
    for p in db.payments.find(
        {**which, "status": "confirmed", "unallocated": {"$gt": 0}},
        {"customer_id": 1, "status": 1, "unallocated": 1},
    ):
        payments.setdefault(p["customer_id"], []).append(p)
    return debts, payments


def _prepare(seller_id: ObjectId, name: str, kind: str, message: str | None, notice_id: ObjectId) -> dict:
    """Write the notice and one recipient per buyer with live orders in the batch."""
    db = get_db()
    orders = [o for o in _batch_orders(seller_id, name) if allocation.payable(o)]
    if not orders:
        raise ValidationFailed(
            "no buyer has a live order in this batch",
            details=[{"field": "batch", "code": "no_recipients", "message": name}],
        )
    seller = db.sellers.find_one({"_id": seller_id}, SELLER_FIELDS) or {}
    by_buyer: dict = {}
    for o in orders:
        by_buyer.setdefault(o["customer_id"], []).append(o)
    ids = list(by_buyer)
    customers = {
        c["_id"]: c
        for c in db.customers.find(
            {"_id": {"$in": ids}, "seller_id": seller_id},
            {"name": 1, "email": 1, "notify": 1, "notices_opt_out": 1},
        )
    }
    ids = [cid for cid in ids if cid in customers]  # a deleted buyer's orders: no one to tell
    texts = _texts(seller_id, seller, name, kind, {cid: message for cid in ids}, by_buyer, customers)
    t = _text_for(seller.get("language"))
    shop_mails = seller.get("notify_buyers") is not False
    now = clock.now()
    recipients = []
    for cid in ids:
        c = customers[cid]
        text, due = texts[cid]
        mails = (
            shop_mails and c.get("email") and c.get("notify") is not False and not c.get("notices_opt_out")
        )
        recipients.append(
            {
                "_id": f"{notice_id}:{cid}",
                "notice_id": notice_id,
                "seller_id": seller_id,
                "customer_id": cid,
                "name": c["name"],
                "email": c.get("email") if mails else None,
                "email_state": PENDING if mails else SKIPPED,
                "emailed_at": None,
                "line_text": text,
                "balance": due,
                "line_sent_at": None,
                "position": len(recipients),
            }
        )
    notice = {
        "_id": notice_id,
        "seller_id": seller_id,
        "batch": name,
        "kind": kind,
        "message": message,
        "created_at": now,
        "subject": t["subject"].format(shop=seller.get("shop_name") or "", batch=name),
        "email_footer": t["opt_out_hint"],
        "recipient_count": len(recipients),
    }
    if recipients:
        db.notice_recipients.insert_many(recipients, ordered=False)
    db.notices.insert_one(notice)  # last: a notice found has all its recipients
    return notice


def _texts(
    seller_id: ObjectId,
    seller: dict,
    name: str,
    kind: str,
    messages: dict,
    by_buyer: dict,
    customers: dict,
) -> dict:
    """Each buyer's LINE text (their live orders of the batch, what they owe, the shop's
    payment instructions, their seller link) and balance: {customer id: (text, due)}.
    `messages`: the message each buyer reads (the notice's, or their own)."""
    ids = list(messages)
    urls = tracking.current_urls(seller_id, [customers[cid] for cid in ids])
    debts, payments = _money_of(seller_id, ids)
    language = seller.get("language")
    t = _text_for(language)
    currency = seller.get("currency") or "TWD"
    out = {}
    for cid in ids:
        due = allocation.due_of(debts.get(cid, []), allocation.credit_of(payments.get(cid, [])))
        out[cid] = (
            line_text(
                t,
                buyer=customers[cid]["name"],
                batch=name,
                kind=kind,
                message=messages[cid],
                orders=by_buyer.get(cid, []),
                due=currencies.format_amount(due, currency, language or mailer.DEFAULT_LANGUAGE)
                if due
                else None,
                payment_instructions=seller.get("payment_instructions"),
                url=urls[cid],
            ),
            due,
        )
    return out


def resolve_shortage(principal: Principal, name: str, data, key: str | None) -> tuple[dict, bool]:
    """POST /batches/{name}/shortages: the resolution (sales/shopping.py), its answer
    with each cancelled buyer's LINE text."""
    answer, created = shopping.resolve_shortage(principal, name, data, key)
    return with_shortage_texts(principal, name, answer), created


def with_shortage_texts(principal: Principal, name: str, answer: dict) -> dict:
    """A shortage resolution's answer (sales/shopping.py) with a LINE-ready text on each
    cancelled order, for the seller to copy to the buyer (a buyer with no email is told
    only this way): the batch notice's text of that buyer, its message saying what was
    cancelled and the credit made. Made again for a replayed answer (the balance as now)."""
    if not answer["cancelled"]:
        return answer
    seller_id = object_id(principal.seller_id)
    db = get_db()
    seller = db.sellers.find_one({"_id": seller_id}, SELLER_FIELDS) or {}
    language = seller.get("language")
    t = _text_for(language)
    currency = seller.get("currency") or "TWD"
    docs = _batch_orders(seller_id, name)
    gone = {c["order_id"]: c for c in answer["cancelled"]}
    by_buyer: dict = {}
    cancelled: dict = {}
    for o in docs:
        if str(o["_id"]) in gone:
            cancelled.setdefault(o["customer_id"], []).append(o)
        elif allocation.payable(o):
            by_buyer.setdefault(o["customer_id"], []).append(o)
    customers = {
        c["_id"]: c
        for c in db.customers.find({"_id": {"$in": list(cancelled)}, "seller_id": seller_id}, {"name": 1})
    }
    messages = {}
    for cid, own in cancelled.items():
        if cid not in customers:
            continue
        credit = sum(round(gone[str(o["_id"])]["credit"] * 100) for o in own)
        messages[cid] = t["shortage"].format(
            items=t["sep"].join(dict.fromkeys(o["item_name"] for o in own)),
            orders=t["sep"].join(f"#{o['order_no']}" for o in own),
            credit=t["shortage_credit"].format(
                amount=currencies.format_amount(credit, currency, language or mailer.DEFAULT_LANGUAGE)
            )
            if credit
            else "",
        )
    texts = _texts(seller_id, seller, name, "custom", messages, by_buyer, customers)
    for c in answer["cancelled"]:
        c["line_text"] = texts.get(ObjectId(c["customer_id"]), (None,))[0]
    return answer


def create(principal: Principal, name: str, kind: str, message: str | None, key: str | None, mail=None):
    """POST /batches/{name}/notices. Returns (notice with recipients, created). A repeat
    of the Idempotency-Key returns the first notice and sends what it still owes."""
    seller_id = object_id(principal.seller_id, "seller")
    notice_id = ObjectId()
    doc, created = idempotency.once(
        idempotency.claim_id(f"{seller_id}:notices", key),
        notice_id,
        lambda nid: get_db().notices.find_one({"_id": nid, "seller_id": seller_id}),
        lambda: _prepare(seller_id, name, kind, message, notice_id),
        written=lambda: get_db().notices.find_one({"_id": notice_id}, {"_id": 1}) is not None,
    )
    send_emails(doc, mail)
    return notice_out(doc), created


def _claim(rid: str) -> bool:
    claimed = store.update_one(
        get_db().notice_recipients,
        {"_id": rid, "email_state": PENDING},
        {"$set": {"email_state": SENDING, "claimed_at": clock.now()}},
        lock=store.notify_key(rid),
    )
    return claimed.modified_count == 1


def send_emails(notice: dict, mail: mailer.Mailer | None = None) -> int:
    """Email each pending recipient of the notice once; returns how many were sent."""
    mail = mail or mailer.DEFAULT
    if not mail.ready():
        return 0  # no email set up: they stay pending, LINE texts are the way
    coll = get_db().notice_recipients
    sent = 0
    for r in coll.find({"notice_id": notice["_id"], "email_state": PENDING}, {"email": 1, "line_text": 1}):
        if not _claim(r["_id"]):
            continue  # another request is sending it, or sent it
        # The email only: how to stop them (a LINE text is the seller's own message).
        text = f"{r['line_text']}\n{notice.get('email_footer', '')}\n"
        email = mailer.plain_email(r["email"], notice["subject"], text)
        try:
            mail.send(email)
        except mailer.MailError as exc:
            log.warning("notice email not sent (%s): %s", r["_id"], exc)
            coll.update_one({"_id": r["_id"]}, {"$set": {"email_state": PENDING}})
            continue
        coll.update_one({"_id": r["_id"]}, {"$set": {"email_state": SENT, "emailed_at": clock.now()}})
        sent += 1
    return sent


def _recipients(notice_ids: list) -> dict:
    out: dict = {}
    for r in get_db().notice_recipients.find({"notice_id": {"$in": notice_ids}}):
        out.setdefault(r["notice_id"], []).append(r)
    for rows in out.values():
        rows.sort(key=lambda r: r["position"])
    return out


def _recipient_out(r: dict) -> dict:
    return {
        "customer_id": str(r["customer_id"]),
        "name": r["name"],
        "emailed": r["email_state"] == SENT,
        "email_state": r["email_state"],
        "line_text": r["line_text"],
        "balance": from_cents(r["balance"]),
        "line_sent_at": clock.iso(r["line_sent_at"]) if r.get("line_sent_at") else None,
    }


def notice_out(notice: dict, rows: list[dict] | None = None) -> dict:
    if rows is None:
        rows = _recipients([notice["_id"]]).get(notice["_id"], [])
    recipients = [_recipient_out(r) for r in rows]
    return {
        "id": str(notice["_id"]),
        "batch": notice["batch"],
        "kind": notice["kind"],
        "message": notice.get("message"),
        "created_at": clock.iso(notice["created_at"]),
        "recipients": recipients,
        "counts": {
            "recipients": len(recipients),
            "emailed": sum(r["emailed"] for r in recipients),
            "line_sent": sum(r["line_sent_at"] is not None for r in recipients),
        },
    }


def _own_notice(seller_id: ObjectId, name: str, notice_id: str) -> dict:
    doc = get_db().notices.find_one({"_id": object_id(notice_id, "notice")})
    if doc is None or doc["seller_id"] != seller_id or doc["batch"] != name:
        raise NotFound("notice not found")
    return doc


def mark_sent(principal: Principal, name: str, notice_id: str, customer_ids: list[str]) -> dict:
    """POST .../notices/{id}/sent: tick the LINE sends; again: the first time is kept.
    An id not among the recipients: 400 naming them, nothing ticked."""
    seller_id = object_id(principal.seller_id, "seller")
    notice = _own_notice(seller_id, name, notice_id)
    rows = _recipients([notice["_id"]]).get(notice["_id"], [])
    known = {str(r["customer_id"]) for r in rows}
    unknown = [c for c in dict.fromkeys(customer_ids) if c not in known]
    if unknown:
        raise ValidationFailed(
            "not recipients of this notice: " + ", ".join(unknown),
            details=[{"field": "customer_ids", "code": "not_a_recipient", "message": c} for c in unknown],
        )
    rids = [f"{notice['_id']}:{c}" for c in dict.fromkeys(customer_ids)]
    now = clock.now()
    # Only the unticked: a second tick (or two at once) keeps the first time.
    store.update_many(
        get_db().notice_recipients,
        {"_id": {"$in": rids}, "line_sent_at": None},
        {"$set": {"line_sent_at": now}},
        lock=[store.notify_key(r) for r in rids],
    )
    return notice_out(notice)


def search(principal: Principal, name: str) -> dict:
    """GET .../notices: the newest MAX_LISTED notices of the batch with their reach."""
    seller_id = object_id(principal.seller_id, "seller")
    docs = list(
        get_db().notices.find({"seller_id": seller_id, "batch": name}, sort=NEWEST_FIRST, limit=MAX_LISTED)
    )
    rows = _recipients([d["_id"] for d in docs])
    return {"items": [notice_out(d, rows.get(d["_id"], [])) for d in docs], "next_cursor": None}
