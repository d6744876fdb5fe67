"""The words a file uses for codes (statuses, payment methods, charge kinds, who changed
an order) in 繁體中文: the one table the CSV export writes and the import reads back.

They are the words the seller's pages show (static_site/src/js/i18n/seller.js and
buyer.js, keys in PAGE_KEYS). The Lambda package holds chalicelib only, so the server
cannot read the pages' tables at run time; tests/unit/test_labels.py holds every word here
equal to the page's, so the two never drift. An English file writes the codes themselves
(what the API and scripts use); the import reads codes, these words, the pages' English
words and the older words in OLD_WORDS.
"""

from __future__ import annotations

# kind of code -> code -> 繁體中文 word
ZH: dict[str, dict[str, str]] = {
    "payment_status": {
        "unpaid": "未付款",
        "partial": "部分付款",
        "remitted": "已匯款",
        "refunded": "已退款",
    },
    "fulfillment_status": {
        "pending": "已下單",
        "purchased": "已購買",
        "shipped": "已出貨",
        "delivered": "已送達",
        "cancelled": "已取消",
    },
    "payment_state": {"reported": "待確認", "confirmed": "已確認", "rejected": "已退回", "voided": "已作廢"},
    "method": {
        "bank_transfer": "銀行轉帳",
        "cash": "現金",
        "line_pay": "LINE Pay",
        "jko_pay": "街口支付",
        "credit_card": "信用卡",
        "other": "其他",
    },
    "charge_kind": {
        "shipping": "運費",
        "duty": "關稅",
        "packaging": "包材費",
        "adjustment": "金額調整",
        "other": "其他費用",
    },
    # A charge as its page shows it: `open` is split by its money (charge_state_of).
    "charge_state": {"open": "未付款", "partial": "部分付款", "paid": "已付清", "void": "已作廢"},
    # Who recorded a payment: the page names only the buyer's reports.
    "source": {"seller": "賣家", "buyer": "買家回報"},
    # How the code recorded a payment itself (empty: typed by the seller); the page names
    # an import's only.
    "via": {"import": "CSV 匯入", "order_switch": "已匯款開關", "statement": "銀行對帳單"},
    # Who wrote an order's history entry: a source the server names (an actor's id is
    # "you" for the account exporting, "owner" for the shop's own login, another account
    # otherwise).
    "by": {
        "you": "你",
        "owner": "店主",
        "other": "其他帳號",
        "bulk": "批次更新",
        "payment": "付款",
        "parcel": "包裹",
        "merge": "合併買家",
        "import": "匯入",
        "form": "訂購表單",
    },
}
# The English words the pages show, read back by the import (any case).
EN: dict[str, dict[str, str]] = {
    "payment_status": {
        "unpaid": "Unpaid",
        "partial": "Partly paid",
        "remitted": "Remitted",
        "refunded": "Refunded",
    },
    "fulfillment_status": {
        "pending": "Ordered",
        "purchased": "Purchased",
        "shipped": "Shipped",
        "delivered": "Delivered",
        "cancelled": "Cancelled",
    },
    "by": {
        "you": "you",
        "owner": "the owner",
        "other": "another account",
        "bulk": "bulk update",
        "payment": "a payment",
        "parcel": "its parcel",
        "merge": "buyers merged",
        "import": "import",
        "form": "order form",
    },
}
# Where the pages keep each kind (the i18n key is PREFIX + code).
PAGE_KEYS = {
    "payment_status": "pay.",
    "fulfillment_status": "ful.",
    "payment_state": "pst.",
    "method": "pm.",
    "charge_kind": "charge.kind.",
    "charge_state": "charge.status.",
    "by": "history.by.",
}
PAGE_KEY = {
    ("source", "buyer"): "pay.by_buyer",  # (no page word for the seller's own)
    ("via", "import"): "pay.via_import",
}
# Words earlier files and sellers' own sheets use (read, never written): word -> code.
OLD_WORDS = {"fulfillment_status": {"待購買": "pending"}}


def word(kind: str, code: str | None, lang: str) -> str | None:
    """The code as a `lang` file writes it: the 繁體中文 word, or the code itself."""
    if code is None or lang != "zh":
        return code
    return ZH[kind].get(code, code)


def charge_state_of(status: str, paid_cents: int, balance_cents: int) -> str:
    """The state the charges page shows (void, paid, partial, open), as its statusOf."""
    if status == "void":
        return "void"
    if balance_cents == 0:
        return "paid"
    return "partial" if paid_cents > 0 else "open"


def code_of(kind: str, text: str) -> str:
    """The code a cell means: a code, a 繁體中文 word (page's or older) or an English
    page word (any case); anything else comes back lowercased, for the caller to refuse."""
    text = text.strip()
    for code, w in ZH.get(kind, {}).items():
        if text == w:
            return code
    if text in OLD_WORDS.get(kind, {}):
        return OLD_WORDS[kind][text]
    lowered = text.lower()
    for code, w in EN.get(kind, {}).items():
        if lowered == w.lower():
            return code
    return lowered
