"""The packing slip of a parcel: a printable HTML page (A4, or a 100×150 mm label), in
the shop's language, with or without prices. Rendered by Jinja2 with autoescaping, so a
buyer's name or an item typed as `<script>` is text on the slip."""

from __future__ import annotations

import functools
from typing import Any

from chalicelib.money import charges
from chalicelib.platform import currencies
from chalicelib.platform.db import get_db
from chalicelib.platform.ids import object_id
from chalicelib.platform.pages import HtmlPage
from chalicelib.platform.principal import Principal
from chalicelib.rules import allocation

# What the slip says, per shop language. Methods name the contract's parcel methods.
TEXT: dict[str, dict[str, Any]] = {
    "zh-Hant": {
        "lang": "zh-Hant",
        # 繁中 punctuation is full-width: "電話：0912…", "（店號 123）", never ": " or " (".
        "colon": "：",
        "open": "（",
        "close": "）",
        "title": "出貨單",
        "shipped": "出貨日期",
        "method": "寄送方式",
        "to": "收件人",
        "phone": "電話",
        "store": "取貨門市",
        "store_id": "店號",
        "tracking": "物流單號",
        "packed": "已裝箱",
        "order": "訂單",
        "item": "商品",
        "qty": "數量",
        "amount": "金額",
        "shipping": "運費",
        "total": "合計",
        "balance": "尚未付款",
        "note": "備註",
        "thanks": "感謝您的訂購！",
        "methods": {
            "home": "宅配",
            "cvs_711": "7-ELEVEN 取貨",
            "cvs_family": "全家取貨",
            "cvs_hilife": "萊爾富取貨",
            "cvs_ok": "OK 超商取貨",
            "post": "郵寄",
            "pickup": "面交／自取",
            "overseas": "海外寄送",
        },
    },
    "en": {
        "lang": "en",
        "colon": ": ",
        "open": " (",
        "close": ")",
        "title": "Packing slip",
        "shipped": "Shipped",
        "method": "Method",
        "to": "Ship to",
        "phone": "Phone",
        "store": "Pick-up store",
        "store_id": "store no.",
        "tracking": "Tracking number",
        "packed": "Packed",
        "order": "Order",
        "item": "Item",
        "qty": "Qty",
        "amount": "Amount",
        "shipping": "Shipping",
        "total": "Total",
        "balance": "Still to pay",
        "note": "Note",
        "thanks": "Thank you for your order!",
        "methods": {
            "home": "Home delivery",
            "cvs_711": "7-ELEVEN pick-up",
            "cvs_family": "FamilyMart pick-up",
            "cvs_hilife": "Hi-Life pick-up",
            "cvs_ok": "OK mart pick-up",
            "post": "Post",
            "pickup": "Pick-up in person",
            "overseas": "Overseas",
        },
    },
}


PARCEL_FIELDS = ("parcel_no", "shipped_date", "method", "carrier", "tracking_number", "note")
RECIPIENT_FIELDS = ("name", "phone", "address", "store_name", "store_id")


@functools.cache
def _template():
    import jinja2  # imported on first slip only: most requests never print one

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chalicelib", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("packing_slip.html")


def _money(currency: str, language: str):
    """Amounts as the pages write them, in the slip's language (currencies.format_amount:
    ¥1,234 for a yen shop, NT$960 and NT$780.50)."""
    return lambda cents: currencies.format_amount(cents, currency, language)


def render(principal: Principal, parcel_id: str, *, prices: bool = True, label: bool = False) -> HtmlPage:
    from chalicelib.shipping.parcels import charge_key, own_finished  # parcels imports nothing from here

    db = get_db()
    parcel = own_finished(principal, parcel_id)
    seller = (
        db.sellers.find_one({"_id": object_id(principal.seller_id)}, {"shop_name": 1, "language": 1}) or {}
    )
    found = {o["_id"]: o for o in db.orders.find({"_id": {"$in": parcel["order_ids"]}})}
    # The parcel's shipping charge (its buyer pays the fee): a line of its own.
    charge = charges.by_key(parcel["seller_id"], [charge_key(parcel["_id"])]).get(charge_key(parcel["_id"]))
    orders = [found[i] for i in parcel["order_ids"] if i in found]
    language = seller.get("language") if seller.get("language") in TEXT else "zh-Hant"
    # Any stored parcel prints: a field it lacks (a recipient edited down to a phone, an
    # old document) is a blank on the slip, never a template error.
    stored = parcel.get("recipient") if isinstance(parcel.get("recipient"), dict) else {}
    # Who packed it is not on the slip (issue 31 keeps it on the Ship tab): the slip goes in
    # the box to the buyer, who has no use for it, and a helper's email is not theirs to see.
    text = _template().render(
        t=TEXT[language],
        shop=seller.get("shop_name", ""),
        parcel={k: parcel.get(k) for k in PARCEL_FIELDS},
        recipient={k: stored.get(k) for k in RECIPIENT_FIELDS},
        buyer_name=parcel.get("buyer_name") or "",
        orders=orders,
        prices=prices,
        label=label,
        # What the buyer pays: the orders (their own shipping fees included) and the
        # parcel's shipping charge; what is still owed on them, the charge's balance too.
        shipping=charge["amount"] if charge else None,
        total=sum(o["total_amount"] for o in orders) + (charge["amount"] if charge else 0),
        balance=sum(allocation.balance_of(o) for o in [*orders, *([charge] if charge else [])]),
        money=_money(principal.currency or "TWD", language),
    )
    return HtmlPage(text)
