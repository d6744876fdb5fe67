"""Buyer emails on events (Amazon SES, the shop's language, with a tracking link of
their own): a parcel shipped, a payment confirmed, an order form submitted. These are
the handlers of `parcels.ParcelShipped`, `payments.PaymentConfirmed` and
`forms.FormOrderPlaced` (bus.HANDLERS); the mail adapter is a parameter (`mail`, by
default the configured one: SES, or the local outbox of `make run`), so tests pass an
in-memory one.

Exactly one email per event, whatever retries: the event's document (the parcel or the
payment) is claimed by a conditional update (`notified_at` from null to now) before the
send, so a retried request, a second device or a crash-and-retry finds it claimed. A
failed send gives the claim back (and removes the link nobody received), so a later
retry may send it; a crash between claim and send loses that one email (at most once
beats twice). Off when the shop turned `notify_buyers` off or the customer's `notify`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.platform import clock, currencies, mailer, store
from chalicelib.platform.db import get_db
from chalicelib.rules import allocation, carriers
from chalicelib.sales import closing, forms, waitlist
from chalicelib.shipping.packing_slip import TEXT as SLIP_TEXT
from chalicelib.tracking import tracking

if TYPE_CHECKING:
    from chalicelib.money.payments import PaymentConfirmed
    from chalicelib.sales.closing import FormOrdersCancelled, FormReminderDue
    from chalicelib.sales.forms import FormOrderPlaced
    from chalicelib.sales.shopping import ShortageCancelled
    from chalicelib.shipping.parcels import ParcelShipped

log = logging.getLogger(__name__)

SELLER_FIELDS = {
    "shop_name": 1,
    "currency": 1,
    "language": 1,
    "timezone": 1,
    "payment_instructions": 1,
    "notify_buyers": 1,
}

TEXT = {
    "zh-Hant": {
        "parcel_subject": "{shop}：您的包裹已出貨（{orders}）",
        "parcel_body": "{buyer} 您好：\n\n您在「{shop}」的訂單 {orders} 已於 {date} 出貨，寄送方式：{method}。{tracking}\n\n"
        "隨時查看進度：\n{url}\n",
        "tracking": "\n物流：{carrier}，單號 {number}{link}",
        "payment_subject": "{shop}：已確認您的付款 {amount}",
        "payment_body": "{buyer} 您好：\n\n「{shop}」已確認收到您 {date} 的付款 {amount}{orders}。\n\n隨時查看付款與出貨進度：\n{url}\n",
        "paid_orders": "（訂單 {orders}）",
        "sep": "、",
        "cancelled_subject": "{shop}：「{form}」未成團，您的訂單已取消",
        "cancelled_body": "{buyer} 您好：\n\n「{shop}」的團購「{form}」未達成團門檻（{items}），您的訂單 {orders} 已取消。"
        "{credit}\n\n隨時查看您的訂單與款項：\n{url}\n",
        "credit": "已付的 {amount} 已轉為您在本店的購物金，可用於之後的訂單。",
        "shortage_subject": "{shop}：{items} 沒買到，您的訂單已取消",
        "shortage_body": "{buyer} 您好：\n\n很抱歉，「{shop}」這次採買（{batch}）{items} 的數量不足，您的訂單 {orders} 已取消。"
        "{credit}\n\n隨時查看您的訂單與款項：\n{url}\n",
        "closing_soon_subject": "{shop}：「{form}」即將截止（{when}）",
        "closing_soon_body": "{buyer} 您好：\n\n「{shop}」的團購「{form}」將於 {when} 截止。想加購或分享給朋友，請在截止前下單。\n\n"
        "您的訂單與款項：\n{url}\n",
        "remind_footer": "\n您在下單時勾選了提醒。不想再收到提醒與批次通知 Email？打開上面的連結，在頁面最下方按「停止批次通知 Email」。\n",
        "waitlist_subject": "{shop}：{item} 補貨了，已為您下單（訂單 {order}）",
        "waitlist_body": "{buyer} 您好：\n\n您在「{shop}」的團購「{form}」登記的補貨通知：{item} × {quantity} 已為您建立訂單 {order}。\n\n"
        "查看訂單與付款方式：\n{url}\n",
        "waitlist_closed_subject": "{shop}：「{form}」已截止，{item} 的候補結束",
        "waitlist_closed_body": "{buyer} 您好：\n\n「{shop}」的團購「{form}」已截止，{item} 在截止前沒有補貨。"
        "您的補貨通知登記已結束：沒有成立訂單，也不需付款。謝謝您的支持！\n",
        "payment_due_subject": "{shop}：「{form}」尚有 {amount} 待付款",
        "payment_due_body": "{buyer} 您好：\n\n您在「{shop}」的團購「{form}」訂單 {orders} 尚有 {amount} 待付款。{instructions}\n\n"
        "查看明細與回報匯款：\n{url}\n",
    },
    "en": {
        "parcel_subject": "{shop}: your parcel has shipped ({orders})",
        "parcel_body": "Hello {buyer},\n\nYour orders {orders} at {shop} shipped on {date} ({method}).{tracking}\n\n"
        "Follow them any time:\n{url}\n",
        "tracking": "\nCarrier: {carrier}, tracking number {number}{link}",
        "payment_subject": "{shop}: your payment of {amount} is confirmed",
        "payment_body": "Hello {buyer},\n\n{shop} has confirmed your payment of {amount} from {date}{orders}.\n\n"
        "Follow your payments and parcels any time:\n{url}\n",
        "paid_orders": " (orders {orders})",
        "sep": ", ",
        "cancelled_subject": "{shop}: {form} did not reach its minimum; your order is cancelled",
        "cancelled_body": "Hello {buyer},\n\nThe group buy {form} at {shop} did not reach its minimum ({items}), "
        "so your orders {orders} are cancelled.{credit}\n\nFollow your orders and payments any time:\n{url}\n",
        "credit": " The {amount} you paid is now your credit at the shop, for your next orders.",
        "shortage_subject": "{shop}: {items} sold out; your order is cancelled",
        "shortage_body": "Hello {buyer},\n\nSorry: on the shopping trip {batch}, {shop} could not buy enough of {items}, "
        "so your orders {orders} are cancelled.{credit}\n\nFollow your orders and payments any time:\n{url}\n",
        "closing_soon_subject": "{shop}: {form} closes soon ({when})",
        "closing_soon_body": "Hello {buyer},\n\nThe group buy {form} at {shop} closes on {when}. To add more, or to share it "
        "with a friend, order before then.\n\nYour orders and payments:\n{url}\n",
        "remind_footer": "\nYou asked for reminders when you ordered. To stop reminders and batch notices by email, open "
        "the link above and tap “Stop batch notices by email” at the bottom of the page.\n",
        "waitlist_subject": "{shop}: {item} is back; your order {order} is placed",
        "waitlist_body": "Hello {buyer},\n\nYou were on the waitlist of {item} in {form} at {shop}: {quantity} came back "
        "and are yours as order {order}.\n\nSee it and how to pay:\n{url}\n",
        "waitlist_closed_subject": "{shop}: {form} has closed; the waitlist of {item} has ended",
        "waitlist_closed_body": "Hello {buyer},\n\nThe group buy {form} at {shop} has closed before {item} came back. "
        "Your place on its waitlist has ended: nothing was ordered and you owe nothing. Thank you!\n",
        "payment_due_subject": "{shop}: {amount} still due for {form}",
        "payment_due_body": "Hello {buyer},\n\nYour orders {orders} in the group buy {form} at {shop} still owe {amount}."
        "{instructions}\n\nSee them and report a transfer:\n{url}\n",
    },
}


def _audience(seller_id, customer_id) -> tuple[dict, dict] | None:
    db = get_db()
    seller = db.sellers.find_one({"_id": seller_id}, SELLER_FIELDS)
    if not seller or seller.get("notify_buyers") is False:
        return None
    customer = db.customers.find_one(
        {"_id": customer_id, "seller_id": seller_id}, {"name": 1, "email": 1, "notify": 1}
    )
    if not customer or customer.get("notify") is False or not customer.get("email"):
        return None
    return seller, customer


def _claim(collection: str, doc_id) -> bool:
    claimed = store.update_one(
        get_db()[collection],
        {"_id": doc_id, "notified_at": None},
        {"$set": {"notified_at": clock.now()}},
        lock=store.notify_key(doc_id),
    )
    return claimed.modified_count == 1


def _send(collection: str, doc: dict | None, build, mail: mailer.Mailer) -> bool:
    """Claim the event, make the buyer a link, send; give both back if SES refuses."""
    if doc is None or not mail.ready():
        return False  # gone, or no email set up (no SES sender, no outbox): nothing to claim
    who = _audience(doc["seller_id"], doc["customer_id"])
    if who is None or not _claim(collection, doc["_id"]):
        return False
    seller, customer = who
    url, link_id = tracking.email_link(seller, customer)
    language = seller.get("language") if seller.get("language") in TEXT else mailer.DEFAULT_LANGUAGE
    subject, text = build(TEXT[language], language, seller, customer, url)
    email = mailer.plain_email(customer["email"], subject, text)
    try:
        mail.send(email)
    except mailer.MailError as exc:
        log.warning("buyer email not sent (%s %s): %s", collection, doc["_id"], exc)
        get_db()[collection].update_one({"_id": doc["_id"]}, {"$set": {"notified_at": None}})
        tracking.drop_link(link_id)
        return False
    tracking.keep_newest_emailed(seller["_id"], customer["_id"])
    return True


def parcel_shipped(event: ParcelShipped, mail: mailer.Mailer | None = None) -> bool:
    mail = mail or mailer.DEFAULT
    if not mail.ready():
        return False  # no email set up (no SES sender, no outbox): not even the read
    parcel = get_db().parcels.find_one({"_id": event.parcel_id})

    def build(t, language, seller, customer, url):
        methods = SLIP_TEXT[language]["methods"]
        orders = t["sep"].join(f"#{n}" for n in parcel["order_nos"])
        tracking_text = ""
        if parcel.get("carrier") or parcel.get("tracking_number"):
            link = carriers.tracking_url(parcel.get("carrier"), parcel.get("tracking_number"))
            tracking_text = t["tracking"].format(
                carrier=parcel.get("carrier") or "—",
                number=parcel.get("tracking_number") or "—",
                link=f"\n{link}" if link else "",
            )
        fields = {
            "shop": seller["shop_name"],
            "buyer": customer["name"],
            "orders": orders,
            "date": parcel["shipped_date"],
            "method": methods.get(parcel["method"], parcel["method"]),
            "tracking": tracking_text,
            "url": url,
        }
        return t["parcel_subject"].format(**fields), t["parcel_body"].format(**fields)

    return _send("parcels", parcel, build, mail)


def payment_confirmed(event: PaymentConfirmed, mail: mailer.Mailer | None = None) -> bool:
    mail = mail or mailer.DEFAULT
    if not mail.ready():
        return False  # no email set up (no SES sender, no outbox): not even the read
    payment = get_db().payments.find_one({"_id": event.payment_id, "status": "confirmed"})

    def build(t, language, seller, customer, url):
        # The orders it paid (a charge has no number to name).
        nos = [f"#{a['order_no']}" for a in payment.get("allocations", []) if "order_no" in a]
        fields = {
            "shop": seller["shop_name"],
            "buyer": customer["name"],
            "amount": currencies.format_amount(payment["amount"], seller.get("currency") or "TWD", language),
            "date": payment["paid_at"],
            "orders": t["paid_orders"].format(orders=t["sep"].join(nos)) if nos else "",
            "url": url,
        }
        return t["payment_subject"].format(**fields), t["payment_body"].format(**fields)

    return _send("payments", payment, build, mail)


def form_order_placed(event: FormOrderPlaced, mail: mailer.Mailer | None = None) -> bool:
    """The buyer's whole tracking link, to the email on file: for a new customer the
    answer's own link; for a known one a new emailed link (the answer shows only this
    submission, and whoever typed the email may not be its owner). Not claimed: the
    submission's Idempotency-Key already runs it once. A refused send is only logged
    (and its link dropped): the answer carries a working link either way."""
    mail = mail or mailer.DEFAULT
    if not mail.ready():
        return False
    seller = forms.shop_of(event.form_id)
    customer = get_db().customers.find_one(
        {"_id": event.customer_id}, {"seller_id": 1, "name": 1, "email": 1}
    )
    if seller is None or customer is None or not customer.get("email"):
        return False
    link_id = None
    if event.whole:
        url = tracking.form_link_url(event.submission_id)
    else:
        url, link_id = tracking.email_link(seller, customer)
    try:
        mail.send(
            mailer.tracking_link_email(
                to=customer["email"],
                shop_name=seller["shop_name"],
                buyer_name=customer["name"],
                url=url,
                language=seller.get("language") or mailer.DEFAULT_LANGUAGE,
            )
        )
    except mailer.MailError as exc:
        log.warning("form order email not sent (form %s): %s", event.form_id, exc)
        if link_id is not None:
            tracking.drop_link(link_id)
        return False
    if link_id is not None:
        tracking.keep_newest_emailed(seller["_id"], customer["_id"])
    return True


def form_orders_cancelled(event: FormOrdersCancelled, mail: mailer.Mailer | None = None) -> int:
    """A form's close cancelled orders below the minimum: each buyer is told once, by
    email where they have one (their orders, what became credit, their link). The
    notice's record (closing.claim_notice) is written before the send, for a buyer with
    no email too (the seller's form lists who to tell by LINE); a refused send gives it
    back. Returns the emails sent."""
    return _tell_cancelled(
        event.order_ids,
        event.paid,
        (event.form_id, closing.MIN_UNMET),
        ("cancelled_subject", "cancelled_body"),
        lambda own: {"form": own[0].get("form_title") or ""},
        mail or mailer.DEFAULT,
    )


def shortage_cancelled(event: ShortageCancelled, mail: mailer.Mailer | None = None) -> int:
    """A shortage resolution cancelled orders (sales/shopping.py): each buyer is told
    once, by email where they have one (the answer of the resolution marks who is not,
    for the seller to tell by LINE). The same claim per buyer as a form's cancel
    (closing.claim_notice, keyed by the resolution). Returns the emails sent."""
    return _tell_cancelled(
        event.order_ids,
        event.paid,
        (event.resolution_id, SHORTAGE),
        ("shortage_subject", "shortage_body"),
        lambda own: {"batch": event.batch},
        mail or mailer.DEFAULT,
    )


def _tell_cancelled(order_ids, paid_by_order, claim: tuple, texts: tuple[str, str], extra, mail) -> int:
    """Tell each buyer of the cancelled orders among `order_ids` once (`claim`: the notice's
    key and kind for closing.claim_notice, recorded for a buyer without email too, given
    back when the send is refused): their orders, what became credit, their link."""
    key, kind = claim
    cancelled = list(
        get_db().orders.find(
            {"_id": {"$in": list(order_ids)}, "fulfillment_status": "cancelled"},
            {"seller_id": 1, "customer_id": 1, "order_no": 1, "item_name": 1, "form_title": 1},
        )
    )
    was_paid = dict(paid_by_order)
    per_buyer: dict = {}
    for o in cancelled:
        per_buyer.setdefault(o["customer_id"], []).append(o)
    sent = 0
    for customer_id, own in per_buyer.items():
        who = _audience(own[0]["seller_id"], customer_id)
        emailed = who is not None and mail.ready()
        if not closing.claim_notice(key, customer_id, kind, emailed) or not emailed:
            continue
        seller, customer = who
        url, link_id = tracking.email_link(seller, customer)
        language = seller.get("language") if seller.get("language") in TEXT else mailer.DEFAULT_LANGUAGE
        t = TEXT[language]
        paid = sum(was_paid.get(o["_id"], 0) for o in own)
        fields = {
            "shop": seller["shop_name"],
            "buyer": customer["name"],
            **extra(own),
            "items": t["sep"].join(dict.fromkeys(o["item_name"] for o in own)),
            "orders": t["sep"].join(f"#{o['order_no']}" for o in sorted(own, key=lambda o: o["order_no"])),
            "credit": t["credit"].format(
                amount=currencies.format_amount(paid, seller.get("currency") or "TWD", language)
            )
            if paid
            else "",
            "url": url,
        }
        subject, body = texts
        try:
            mail.send(
                mailer.plain_email(customer["email"], t[subject].format(**fields), t[body].format(**fields))
            )
        except mailer.MailError as exc:
            log.warning("%s notice not sent (%s, buyer %s): %s", kind, key, customer_id, exc)
            closing.give_back_notice(key, customer_id, kind)
            tracking.drop_link(link_id)
            continue
        tracking.keep_newest_emailed(seller["_id"], customer["_id"])
        sent += 1
    return sent


SHORTAGE = "shortage"  # the kind of a shortage's notice record (form_notices)


def form_reminder(event: FormReminderDue, mail: mailer.Mailer | None = None) -> int:
    """A form's reminder ("closing soon", "payment due") to each buyer who asked for it
    (closing.send_due_reminders chose them) and can be reached (an email, notify on, no
    notices opt-out), once: the record (closing.claim_notice) is written before the send,
    a refused send drops it. The others get nothing (nothing is recorded for them).
    The shop, the buyers and (for "payment due") their orders on the form are read once
    for the whole run, not per buyer (bench/bench_group_buy.py). Returns the emails sent."""
    mail = mail or mailer.DEFAULT
    if not mail.ready():
        return 0
    db = get_db()
    form = db.forms.find_one({"_id": event.form_id}, {"seller_id": 1, "title": 1, "closes_at": 1})
    if form is None:
        return 0
    seller = db.sellers.find_one({"_id": form["seller_id"]}, SELLER_FIELDS)
    if not seller or seller.get("notify_buyers") is False:
        return 0
    ids = list(event.customer_ids)
    buyers = {
        c["_id"]: c
        for c in db.customers.find(
            {"_id": {"$in": ids}, "seller_id": form["seller_id"]},
            {"name": 1, "email": 1, "notify": 1, "notices_opt_out": 1},
        )
        if c.get("email") and c.get("notify") is not False and not c.get("notices_opt_out")
    }
    owing: dict = {}
    if event.kind == closing.PAYMENT_DUE:
        found = db.orders.find(
            {
                "form_id": form["_id"],
                "customer_id": {"$in": list(buyers)},
                "fulfillment_status": {"$ne": "cancelled"},
            },
            {
                "customer_id": 1,
                "order_no": 1,
                "total_amount": 1,
                "paid_amount": 1,
                "payment_status": 1,
                "fulfillment_status": 1,
            },
        )
        for o in found:
            if allocation.balance_of(o) > 0:
                owing.setdefault(o["customer_id"], []).append(o)
    language = seller.get("language") if seller.get("language") in TEXT else mailer.DEFAULT_LANGUAGE
    t = TEXT[language]
    zone = seller.get("timezone") or clock.DEFAULT_TZ
    closes = form["closes_at"] if form["closes_at"].tzinfo else form["closes_at"].replace(tzinfo=dt.UTC)
    sent = 0
    for customer_id in ids:
        customer = buyers.get(customer_id)
        if customer is None:
            continue
        fields = {"shop": seller["shop_name"], "buyer": customer["name"], "form": form["title"]}
        if event.kind == closing.PAYMENT_DUE:
            theirs = owing.get(customer_id)
            if not theirs:
                continue  # paid meanwhile
            due = sum(allocation.balance_of(o) for o in theirs)
            instructions = seller.get("payment_instructions")
            fields |= {
                "orders": t["sep"].join(
                    f"#{o['order_no']}" for o in sorted(theirs, key=lambda o: o["order_no"])
                ),
                "amount": currencies.format_amount(due, seller.get("currency") or "TWD", language),
                "instructions": f"\n\n{instructions}" if instructions else "",
            }
        else:
            fields["when"] = closes.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        if not closing.claim_notice(event.form_id, customer_id, event.kind, True):
            continue
        url, link_id = tracking.email_link(seller, customer)
        fields["url"] = url
        text = t[f"{event.kind}_body"].format(**fields) + t["remind_footer"]
        try:
            mail.send(
                mailer.plain_email(customer["email"], t[f"{event.kind}_subject"].format(**fields), text)
            )
        except mailer.MailError as exc:
            log.warning("reminder not sent (form %s, buyer %s): %s", event.form_id, customer_id, exc)
            closing.give_back_notice(event.form_id, customer_id, event.kind)
            tracking.drop_link(link_id)
            continue
        tracking.keep_newest_emailed(seller["_id"], customer["_id"])
        sent += 1
    return sent


WAITLIST = "waitlist"  # form_notices' kind prefix: one per served entry


def waitlist_served(event: waitlist.WaitlistServed, mail: mailer.Mailer | None = None) -> int:
    """A waitlist entry became an order: its buyer is told once (the notice record is
    claimed before the send, for a buyer with no email too); by email where they have
    one, else the seller's queue lists them (`emailed: false`) to tell by LINE."""
    mail = mail or mailer.DEFAULT
    order = get_db().orders.find_one(
        {"_id": event.order_id},
        {"seller_id": 1, "customer_id": 1, "order_no": 1, "item_name": 1, "form_title": 1, "quantity": 1},
    )
    if order is None:
        return 0
    who = _audience(order["seller_id"], order["customer_id"])
    emailed = who is not None and mail.ready()
    kind = f"{WAITLIST}:{event.entry_id}"
    if not closing.claim_notice(event.form_id, order["customer_id"], kind, emailed):
        return 0
    waitlist.mark_told(event.entry_id, emailed)
    if not emailed:
        return 0
    seller, customer = who
    url, link_id = tracking.email_link(seller, customer)
    language = seller.get("language") if seller.get("language") in TEXT else mailer.DEFAULT_LANGUAGE
    t = TEXT[language]
    fields = {
        "shop": seller["shop_name"],
        "buyer": customer["name"],
        "form": order.get("form_title") or "",
        "item": order["item_name"],
        "quantity": order["quantity"],
        "order": f"#{order['order_no']}",
        "url": url,
    }
    text = t["waitlist_body"].format(**fields)
    try:
        mail.send(mailer.plain_email(customer["email"], t["waitlist_subject"].format(**fields), text))
    except mailer.MailError as exc:
        log.warning("waitlist notice not sent (entry %s): %s", event.entry_id, exc)
        closing.give_back_notice(event.form_id, order["customer_id"], kind)
        tracking.drop_link(link_id)
        return 0
    tracking.keep_newest_emailed(seller["_id"], customer["_id"])
    return 1


def waitlist_closed(event: waitlist.WaitlistClosed, mail: mailer.Mailer | None = None) -> int:
    """A form's close ended its waiting entries: each buyer is told once that nothing
    came back and nothing is owed, by email where the entry has one (the shop's
    `notify_buyers` and, for a known customer, their `notify` and notices opt-out
    respected); the entry's `emailed` is claimed before the send, so `false` is the
    seller's list of whom to tell by LINE. No link: there is no order to show."""
    mail = mail or mailer.DEFAULT
    db = get_db()
    form = db.forms.find_one({"_id": event.form_id}, {"seller_id": 1, "title": 1})
    if form is None:
        return 0
    seller = db.sellers.find_one({"_id": form["seller_id"]}, SELLER_FIELDS) or {}
    entries = list(db.waitlist.find({"_id": {"$in": list(event.entry_ids)}, "status": "closed"}))
    names = {
        i["_id"]: i["item_name"]
        for i in db.items.find({"_id": {"$in": list({e["item_id"] for e in entries})}}, {"item_name": 1})
    }
    emails = [e["contact"]["email"].lower() for e in entries if e["contact"].get("email")]
    stopped = {
        c["email_lower"]
        for c in db.customers.find(
            {"seller_id": form["seller_id"], "email_lower": {"$in": emails}},
            {"email_lower": 1, "notify": 1, "notices_opt_out": 1},
        )
        if c.get("notify") is False or c.get("notices_opt_out")
    }
    shop_on = bool(seller) and seller.get("notify_buyers") is not False and mail.ready()
    language = seller.get("language") if seller.get("language") in TEXT else mailer.DEFAULT_LANGUAGE
    t = TEXT[language]
    sent = 0
    for e in entries:
        email = e["contact"].get("email")
        emailed = bool(shop_on and email and email.lower() not in stopped)
        if not waitlist.claim_closed_notice(e["_id"], emailed) or not emailed:
            continue
        fields = {
            "shop": seller["shop_name"],
            "buyer": e["name"],
            "form": form["title"],
            "item": names.get(e["item_id"], ""),
        }
        try:
            mail.send(
                mailer.plain_email(
                    email,
                    t["waitlist_closed_subject"].format(**fields),
                    t["waitlist_closed_body"].format(**fields),
                )
            )
        except mailer.MailError as exc:
            log.warning("waitlist close notice not sent (entry %s): %s", e["_id"], exc)
            waitlist.give_back_closed_notice(e["_id"])
            continue
        sent += 1
    return sent
