"""Bank statement rows applied, dismissed and uploaded at the same moment on the real
servers (issue 28: "two tabs confirming the same row at once apply it once"). After each
race: one payment per applied row, the row names it, and the ledger holds
(payment_ledger.check_ledger)."""

from __future__ import annotations

import pytest
from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.money import payments, statements
from chalicelib.money.schemas import BuyerPaymentIn, StatementApplyIn, StatementDismissIn
from chalicelib.platform import db
from chalicelib.sales import orders
from chalicelib.sales.schemas import OrderIn
from tests.conftest import at_once
from tests.factories import make_principal

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)
ROUNDS = 4


def statement(lines: list[tuple[str, int, str]]) -> bytes:
    text = "交易日期,摘要,存入,轉出帳號\r\n" + "".join(
        f"{d},轉入,{a},822-****{acct}\r\n" for d, a, acct in lines
    )
    return text.encode()


def buyer(who, email="amy@example.com", price=100):
    o, _ = orders.create(who, OrderIn(buyer_email=email, item_name="Tea", quantity=1, unit_price=price))
    return o["customer_id"]


def reported(who, customer_id, amount, last5="12345") -> str:
    link = {"_id": ObjectId(), "seller_id": ObjectId(who.seller_id), "customer_id": ObjectId(customer_id)}
    payments.report(
        link, BuyerPaymentIn(amount=amount, paid_at="2026-12-01", account_last5=last5), who.timezone
    )
    return str(
        db.get_db().payments.find_one(
            {"customer_id": ObjectId(customer_id), "status": "reported"}, sort=[("_id", -1)]
        )["_id"]
    )


def apply(who, sid, row, customer_id, payment_id=None):
    item = {"row": row, "customer_id": customer_id} | ({"payment_id": payment_id} if payment_id else {})
    return lambda: statements.apply(who, sid, StatementApplyIn.model_validate({"rows": [item]}))


def dismiss(who, sid, row):
    return lambda: statements.dismiss(who, sid, StatementDismissIn(rows=[row]))


def consistent(seller_id) -> None:
    """Each applied row names a live payment that names the row; no row has two."""
    rows = list(db.get_db().statement_rows.find({"seller_id": seller_id}))
    for r in rows:
        assert r["status"] in ("open", "applied", "dismissed"), r
        made = list(db.get_db().payments.find({"statement_row": r["_id"], "status": "confirmed"}))
        if r["status"] == "applied":
            assert [p["_id"] for p in made] == [r["payment_id"]], (r, made)
        else:
            assert made == [], (r, made)
    check_ledger()


def test_two_tabs_apply_the_same_row_as_a_new_payment(api):
    who = make_principal(api)
    cid = buyer(who)
    for n in range(ROUNDS):
        st = statements.upload(who, statement([("2026/12/01", 100 + n, f"1000{n}")]), "dec.csv", None)
        results = at_once([apply(who, st["id"], 2, cid)] * 2)
        applied = [r for res in results for r in res["applied"]]
        failed = [r["code"] for res in results for r in res["failed"]]
        assert len(applied) == 1 and failed == ["already_applied"], results
    assert db.get_db().payments.count_documents({"statement_row": {"$exists": True}}) == ROUNDS
    consistent(ObjectId(who.seller_id))


def test_two_tabs_confirm_the_same_reported_payment(api):
    who = make_principal(api)
    cid = buyer(who, price=500)
    for n in range(ROUNDS):
        pid = reported(who, cid, 100 + n)
        st = statements.upload(who, statement([("2026/12/02", 100 + n, "12345")]), "dec.csv", None)
        results = at_once([apply(who, st["id"], 2, cid, pid)] * 2)
        assert sorted(len(r["applied"]) for r in results) == [0, 1], results
        assert db.get_db().payments.find_one({"_id": ObjectId(pid)})["status"] == "confirmed"
    consistent(ObjectId(who.seller_id))


def test_two_rows_claim_one_reported_payment(api):
    """Two transfers of the same amount, both proposed the same report: one confirms it,
    the other is told it is no longer reported and stays open."""
    who = make_principal(api)
    cid = buyer(who, price=500)
    for n in range(ROUNDS):
        pid = reported(who, cid, 200 + n)
        lines = [("2026/12/02", 200 + n, "12345"), ("2026/12/02", 200 + n, "12345")]
        st = statements.upload(who, statement(lines), f"dec-{n}.csv", None)
        results = at_once([apply(who, st["id"], 2, cid, pid), apply(who, st["id"], 3, cid, pid)])
        codes = sorted(r["failed"][0]["code"] if r["failed"] else "applied" for r in results)
        assert codes == ["applied", "payment_not_reported"], results
    assert db.get_db().statement_rows.count_documents({"status": "open"}) == ROUNDS
    consistent(ObjectId(who.seller_id))


def test_a_row_and_the_payments_page_confirm_one_report_at_once(api):
    """The seller confirms the report on the Payments tab while another tab applies the
    row that names it: confirmed once; the row is applied with it, or open again."""
    who = make_principal(api)
    cid = buyer(who, price=500)
    for n in range(ROUNDS):
        pid = reported(who, cid, 300 + n)
        st = statements.upload(who, statement([("2026/12/02", 300 + n, "12345")]), "dec.csv", None)
        from_row, from_page = at_once([apply(who, st["id"], 2, cid, pid), lambda: payments.confirm(who, pid)])
        assert from_page["status"] == "confirmed", from_page
        payment = db.get_db().payments.find_one({"_id": ObjectId(pid)})
        row = db.get_db().statement_rows.find_one({"statement_id": ObjectId(st["id"])})
        if from_row["applied"]:
            assert payment.get("statement_row") == row["_id"] and row["status"] == "applied"
        else:
            assert from_row["failed"] == [{"row": 2, "code": "payment_not_reported"}], from_row
            assert "statement_row" not in payment and row["status"] == "open"
    consistent(ObjectId(who.seller_id))


def test_apply_and_dismiss_of_one_row_at_once(api):
    who = make_principal(api)
    cid = buyer(who)
    for n in range(ROUNDS):
        st = statements.upload(who, statement([("2026/12/03", 300 + n, f"2000{n}")]), "dec.csv", None)
        applied, dismissed = at_once([apply(who, st["id"], 2, cid), dismiss(who, st["id"], 2)])
        row = db.get_db().statement_rows.find_one(
            {"_id": db.get_db().statements.find_one({"_id": ObjectId(st["id"])})["rows"][0]["key"]}
        )
        if row["status"] == "applied":
            assert len(applied["applied"]) == 1 and dismissed["failed"] == [
                {"row": 2, "code": "already_applied"}
            ]
        else:
            assert row["status"] == "dismissed", row
            assert applied["failed"] == [{"row": 2, "code": "dismissed"}] and dismissed["dismissed"] == [2]
    consistent(ObjectId(who.seller_id))


def test_the_same_file_uploaded_twice_at_once(api):
    who = make_principal(api)
    data = statement([("2026/12/04", 100, "12345"), ("2026/12/04", 100, "12345"), ("2026/12/05", 7, "54321")])
    first, second = at_once([lambda: statements.upload(who, data, "a.csv", None)] * 2)
    assert first["row_count"] == second["row_count"] == 3
    assert db.get_db().statement_rows.count_documents({"seller_id": ObjectId(who.seller_id)}) == 3
    assert statements.open_rows(who)["count"] == 3
