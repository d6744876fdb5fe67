"""Property (issue 28): after any sequence of bank statement uploads (the same transfers
again, overlapping files, identical transfers in one file), applies (new payments,
reported payments, refused ones), dismissals, voids and buyer reports, the payment ledger
holds (payment_ledger.check_ledger) and no row is applied twice: each applied row names
the one live payment made or confirmed from it, and no other row or payment claims it."""

from __future__ import annotations

import os
from collections import Counter

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payment_ledger import check_ledger

from chalicelib.accounts import auth
from chalicelib.money import payments, statements
from chalicelib.money.schemas import BuyerPaymentIn, StatementApplyIn, StatementDismissIn
from chalicelib.platform import db
from chalicelib.platform.errors import DomainError
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "15"))
BUYERS = ("amy@example.com", "bob@example.com")
# The bank's transfers: (day, amount, last five digits or none).
TRANSFERS = [(1, 100, "12345"), (1, 100, "12345"), (2, 250, None), (2, 100, "54321"), (3, 400, "12345")]
idx = st.integers(0, 20)

op = st.one_of(
    st.tuples(st.just("upload"), st.lists(st.integers(0, len(TRANSFERS) - 1), min_size=1, max_size=6)),
    st.tuples(st.just("apply"), idx, idx, st.integers(0, 1), st.booleans()),
    st.tuples(st.just("apply_many"), st.lists(st.tuples(idx, st.integers(0, 1)), min_size=1, max_size=4)),
    st.tuples(st.just("dismiss"), idx, idx),
    st.tuples(st.just("void"), idx),
    st.tuples(st.just("report"), st.integers(0, 1), st.sampled_from([100, 250, 400]), st.booleans()),
    st.tuples(st.just("order"), st.integers(0, 1), st.integers(50, 400)),
)


def csv_of(picked: list[int]) -> bytes:
    lines = ["交易日期,摘要,存入,轉出帳號"]
    for i in picked:
        day, amount, last5 = TRANSFERS[i]
        lines.append(f"2026/12/0{day},轉入,{amount},{'822-****' + last5 if last5 else ''}")
    return ("\r\n".join(lines) + "\r\n").encode()


def pick(i: int, seq: list):
    return seq[i % len(seq)]


def no_row_applied_twice(seller_id) -> None:
    rows = {r["_id"]: r for r in db.get_db().statement_rows.find({"seller_id": seller_id})}
    live = [
        p
        for p in db.get_db().payments.find({"seller_id": seller_id, "statement_row": {"$exists": True}})
        if p["status"] == "confirmed"
    ]
    per_row = Counter(p["statement_row"] for p in live)
    assert all(n == 1 for n in per_row.values()), per_row
    for key, r in rows.items():
        assert r["status"] in ("open", "applied", "dismissed"), r
        if r["status"] == "applied":
            (p,) = [p for p in live if p["statement_row"] == key]
            assert p["_id"] == r["payment_id"] and p["amount"] == r["amount"], (p, r)
            assert p["customer_id"] == r["customer_id"]
        else:
            assert per_row[key] == 0, r
    applied_payments = [r["payment_id"] for r in rows.values() if r["status"] == "applied"]
    assert len(applied_payments) == len(set(applied_payments))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_statements_never_apply_a_row_twice(backend, ops):
    who = auth.Principal(seller_id=str(ObjectId()), timezone="Asia/Taipei", currency="TWD")
    seller_id = ObjectId(who.seller_id)
    customers: list[str] = []
    for email in BUYERS:
        o, _ = orders.create(who, OrderIn(buyer_email=email, item_name="Tea", quantity=1, unit_price=100))
        customers.append(o["customer_id"])
    uploaded: list[dict] = []
    made: list[str] = []
    for step in ops:
        kind = step[0]
        try:
            if kind == "upload":
                uploaded.append(statements.upload(who, csv_of(step[1]), "dec.csv", None))
            elif kind == "apply" and uploaded:
                shown = pick(step[1], uploaded)
                line = pick(step[2], shown["rows"])
                item = {"row": line["row"], "customer_id": customers[step[3]]}
                if step[4]:  # the seller picks a proposal with a report, if there is one
                    current = statements.get(who, shown["id"])
                    again = next(r for r in current["rows"] if r["row"] == line["row"])
                    named = [p for p in again["proposals"] if p.get("payment_id")]
                    if named:
                        item = {k: named[0][k] for k in ("customer_id", "payment_id")} | {"row": line["row"]}
                out = statements.apply(who, shown["id"], StatementApplyIn.model_validate({"rows": [item]}))
                made += [a["payment_id"] for a in out["applied"]]
            elif kind == "apply_many" and uploaded:
                shown = uploaded[-1]
                items = [
                    {"row": pick(i, shown["rows"])["row"], "customer_id": customers[b]} for i, b in step[1]
                ]
                out = statements.apply(who, shown["id"], StatementApplyIn.model_validate({"rows": items}))
                made += [a["payment_id"] for a in out["applied"]]
            elif kind == "dismiss" and uploaded:
                shown = pick(step[1], uploaded)
                statements.dismiss(
                    who, shown["id"], StatementDismissIn(rows=[pick(step[2], shown["rows"])["row"]])
                )
            elif kind == "void" and made:
                payments.void(who, pick(step[1], made))
            elif kind == "report":
                link = {
                    "_id": ObjectId(),
                    "seller_id": seller_id,
                    "customer_id": ObjectId(customers[step[1]]),
                }
                body = {"amount": step[2], "paid_at": "2026-12-02"} | (
                    {"account_last5": "12345"} if step[3] else {}
                )
                payments.report(link, BuyerPaymentIn.model_validate(body), who.timezone)
            elif kind == "order":
                orders.create(
                    who, OrderIn(buyer_email=BUYERS[step[1]], item_name="Tea", quantity=1, unit_price=step[2])
                )
        except DomainError:
            pass  # refusals (a voided payment again...) are part of the game
    check_ledger()
    no_row_applied_twice(seller_id)
    opened = statements.open_rows(who)
    keys = [r for r in db.get_db().statement_rows.find({"seller_id": seller_id, "status": "open"})]
    assert opened["count"] == len(keys)
