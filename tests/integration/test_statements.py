"""Reconciliation (issue 28): a bank statement's rows, proposals, apply and dismiss,
through the API on every lane."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

from bson import ObjectId
from payment_ledger import check_ledger

from chalicelib.platform import db
from tests.factories import make_customer, make_order
from tests.statement_files import FIRST_ROW
from tests.statement_files import statement_csv as bank_csv
from tests.statement_files import statement_xlsx as bank_xlsx

HEADERS = ["交易日期", "摘要", "支出", "存入", "餘額", "轉出帳號"]


def statement_csv(rows: list[dict], headers: list[str] = HEADERS) -> bytes:
    """A bank's export as UTF-8 CSV; rows: {date, deposit, withdrawal, memo, account}."""
    fields = ("date", "memo", "withdrawal", "deposit", "balance", "account")
    lines = [",".join(headers)]
    for r in rows:
        cells = [str(r.get(f, "")) for f in fields]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    return ("\r\n".join(lines) + "\r\n").encode()


def row(date: str, deposit: str, account: str = "", memo: str = "跨行轉入") -> dict:
    return {"date": date, "deposit": deposit, "memo": memo, "account": account}


def upload(api, token, data: bytes, *, filename="dec.csv", mapping=None, status=201):
    query = f"?filename={quote(filename)}"
    if mapping is not None:
        query += "&mapping=" + quote(mapping if isinstance(mapping, str) else json.dumps(mapping))
    r = api.call("POST", "/statements" + query, raw=data, token=token, headers={"Content-Type": "text/csv"})
    assert r.status == status, r
    return r.json


def report(api, token, customer_id, amount, paid_at, last5=None) -> str:
    link = api.post(f"/customers/{customer_id}/tracking-link", token=token).json["token"]
    body = {"amount": amount, "paid_at": paid_at} | ({"account_last5": last5} if last5 else {})
    assert api.post(f"/track/{link}/payments", body).status == 201
    reported = api.get(f"/payments?status=reported&customer_id={customer_id}", token=token).json["items"]
    return reported[0]["id"]


def by_row(statement: dict) -> dict[int, dict]:
    return {r["row"]: r for r in statement["rows"]}


def apply(api, token, sid, rows, status=200):
    r = api.post(f"/statements/{sid}/apply", {"rows": rows}, token=token)
    assert r.status == status, r
    return r.json


def shop(api, token):
    """Four buyers, one for each rule, and the statement rows that match them."""
    amy = make_customer(api, token, name="Amy", email="amy@example.com")
    bob = make_customer(api, token, name="Bob", email="bob@example.com")
    cy = make_customer(api, token, name="Cy", email="cy@example.com")
    di = make_customer(api, token, name="Di", email="di@example.com")
    make_order(api, token, customer_id=amy["id"], item_name="Tea", unit_price=1200)
    make_order(api, token, customer_id=cy["id"], item_name="Cake", unit_price=1500)
    # Di paid before from the account ending 77777 (the money is credit: no balance).
    assert (
        api.post(
            "/payments",
            {"customer_id": di["id"], "amount": 300, "method": "bank_transfer", "account_last5": "77777"},
            token=token,
        ).status
        == 201
    )
    amy_report = report(api, token, amy["id"], 1200, "2026-12-01", "12345")
    bob_report = report(api, token, bob["id"], 800, "2026-12-03")
    data = statement_csv(
        [
            row("2026/12/02", "1,200", "822-****12345"),  # line 2: Amy's report
            row("2026/12/03", "800", "700-****54321"),  # 3: Bob's report (he gave no digits)
            {"date": "2026/12/03", "withdrawal": "500", "memo": "提款"},  # 4: money out: not a row
            row("2026/12/04", "1,500", "013-****11111"),  # 5: Cy's balance
            row("2026/12/04", "999", "812-****77777"),  # 6: Di's account
            row("2026/12/04", "4,321", "812-****99999"),  # 7: nobody's
        ]
    )
    ids = {"amy": amy["id"], "bob": bob["id"], "cy": cy["id"], "di": di["id"]}
    return ids, {"amy": amy_report, "bob": bob_report}, data


def test_upload_proposes_each_reason_best_first(api, token):
    ids, reports, data = shop(api, token)
    st = upload(api, token, data)
    assert st["filename"] == "dec.csv" and st["row_count"] == 5
    assert st["counts"] == {"proposed": 4, "unmatched": 1, "applied": 0, "dismissed": 0}
    rows = by_row(st)
    assert sorted(rows) == [2, 3, 5, 6, 7]
    amy = rows[2]
    assert (amy["date"], amy["amount"], amy["account_last5"], amy["status"]) == (
        "2026-12-02",
        1200,
        "12345",
        "proposed",
    )
    best = amy["proposals"][0]
    assert (best["customer_id"], best["payment_id"], best["reason"]) == (
        ids["amy"],
        reports["amy"],
        "reported_transfer",
    )
    # Amy also owes 1,200: both reasons, one proposal.
    assert best["reasons"] == ["reported_transfer", "balance_equals"] and best["score"] == 100
    assert amy["confident"] is True
    bob = rows[3]["proposals"]
    assert [(p["customer_id"], p["reason"], p.get("payment_id")) for p in bob] == [
        (ids["bob"], "reported_amount", reports["bob"])
    ]
    assert rows[3]["confident"] is False  # an amount alone is not sure enough
    assert [(p["customer_id"], p["reason"], p["customer_name"]) for p in rows[5]["proposals"]] == [
        (ids["cy"], "balance_equals", "Cy")
    ]
    assert [(p["customer_id"], p["reason"]) for p in rows[6]["proposals"]] == [(ids["di"], "same_account")]
    assert rows[7]["status"] == "unmatched" and rows[7]["proposals"] == [] and not rows[7]["confident"]
    assert api.get(f"/statements/{st['id']}", token=token).json == st


def test_two_buyers_owing_the_amount_is_not_confident(api, token):
    for email in ("a@example.com", "b@example.com"):
        c = make_customer(api, token, name=email[0], email=email)
        make_order(api, token, customer_id=c["id"], unit_price=700)
    st = upload(api, token, statement_csv([row("2026/12/01", "700", "822-****12345")]))
    (r,) = st["rows"]
    assert [p["reason"] for p in r["proposals"]] == ["balance_equals", "balance_equals"]
    assert r["confident"] is False


def test_confirming_a_reported_payment_once(api, token):
    ids, reports, data = shop(api, token)
    st = upload(api, token, data)
    out = apply(api, token, st["id"], [{"row": 2, "customer_id": ids["amy"], "payment_id": reports["amy"]}])
    assert out == {"applied": [{"row": 2, "payment_id": reports["amy"]}], "failed": []}
    payment = api.get(f"/payments/{reports['amy']}", token=token).json
    assert payment["status"] == "confirmed" and payment["unallocated"] == 0
    again = apply(api, token, st["id"], [{"row": 2, "customer_id": ids["amy"], "payment_id": reports["amy"]}])
    assert again == {"applied": [], "failed": [{"row": 2, "code": "already_applied"}]}
    shown = by_row(api.get(f"/statements/{st['id']}", token=token).json)[2]
    assert (shown["status"], shown["customer_id"], shown["customer_name"], shown["payment_id"]) == (
        "applied",
        ids["amy"],
        "Amy",
        reports["amy"],
    )
    assert shown["proposals"] == [] and shown["confident"] is False
    assert db.get_db().payments.count_documents({"status": "confirmed"}) == 2  # Di's and Amy's
    check_ledger()


def test_a_new_payment_for_an_unmatched_row(api, token):
    ids, _, data = shop(api, token)
    st = upload(api, token, data)
    out = apply(api, token, st["id"], [{"row": 7, "customer_id": ids["cy"]}])
    (made,) = out["applied"]
    payment = api.get(f"/payments/{made['payment_id']}", token=token).json
    assert (payment["amount"], payment["paid_at"], payment["account_last5"], payment["method"]) == (
        4321,
        "2026-12-04",
        "99999",
        "bank_transfer",
    )
    assert (payment["status"], payment["via"], payment["customer_id"]) == (
        "confirmed",
        "statement",
        ids["cy"],
    )
    assert payment["unallocated"] == 4321 - 1500  # Cy's order paid, the rest is credit
    stored = db.get_db().payments.find_one({"_id": ObjectId(made["payment_id"])})
    assert stored["statement_row"] == db.get_db().statements.find_one()["rows"][4]["key"]
    # The payments export says where it came from, in the shop's language.
    exported = api.get("/export/payments?format=csv&headers=zh", token=token).body.decode("utf-8-sig")
    assert "銀行對帳單" in exported
    check_ledger()


def test_refusals_name_the_reason_and_change_nothing(api, token):
    ids, reports, data = shop(api, token)
    st = upload(api, token, data)
    before = sorted(str(p) for p in db.get_db().payments.find())
    out = apply(
        api,
        token,
        st["id"],
        [
            {"row": 3, "customer_id": ids["bob"], "payment_id": reports["amy"]},  # Amy's report
            {"row": 5, "customer_id": ids["amy"], "payment_id": reports["amy"]},  # 1,500 ≠ 1,200
            {"row": 6, "customer_id": str(ObjectId())},
            {"row": 8, "customer_id": ids["cy"]},
            {"row": 4, "customer_id": ids["cy"]},  # the withdrawal's line: no row
        ],
    )
    assert out["applied"] == []
    assert out["failed"] == [
        {"row": 3, "code": "payment_not_reported"},
        {"row": 5, "code": "amount_mismatch"},
        {"row": 6, "code": "customer_not_found"},
        {"row": 8, "code": "not_found"},
        {"row": 4, "code": "not_found"},
    ]
    assert sorted(str(p) for p in db.get_db().payments.find()) == before
    assert {d["status"] for d in db.get_db().statement_rows.find()} == {"open"}
    # The refused rows are still there to apply.
    ok = apply(api, token, st["id"], [{"row": 3, "customer_id": ids["bob"], "payment_id": reports["bob"]}])
    assert ok["failed"] == []
    check_ledger()


def test_bad_bodies_are_400_and_write_nothing(api, token):
    ids, _, data = shop(api, token)
    st = upload(api, token, data)
    sid = st["id"]
    before = sorted(str(p) for p in db.get_db().payments.find())
    r = api.post(f"/statements/{sid}/apply", {"rows": []}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "rows", r
    many = [{"row": 2, "customer_id": ids["amy"]}] * 501
    r = api.post(f"/statements/{sid}/apply", {"rows": many}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "rows", r
    r = api.post(f"/statements/{sid}/apply", {"rows": [{"row": 2, "customer_id": "nope"}]}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "rows.0.customer_id", r
    r = api.post(f"/statements/{sid}/dismiss", {"rows": ["2"]}, token=token)
    assert r.status == 400, r
    assert sorted(str(p) for p in db.get_db().payments.find()) == before
    assert {d["status"] for d in db.get_db().statement_rows.find()} == {"open"}


def test_the_same_file_or_an_overlapping_one_applies_nothing_twice(api, token):
    ids, reports, data = shop(api, token)
    first = upload(api, token, data)
    apply(api, token, first["id"], [{"row": 2, "customer_id": ids["amy"], "payment_id": reports["amy"]}])
    apply(api, token, first["id"], [{"row": 7, "customer_id": ids["cy"]}])
    paid = db.get_db().payments.count_documents({"status": "confirmed"})
    again = upload(api, token, data)
    assert again["id"] != first["id"]
    # Cy's 4,321 paid her 1,500: her balance no longer proposes the 1,500 row.
    assert again["counts"] == {"proposed": 2, "unmatched": 1, "applied": 2, "dismissed": 0}
    shown = by_row(again)
    assert shown[2]["status"] == shown[7]["status"] == "applied"
    out = apply(
        api,
        token,
        again["id"],
        [
            {"row": 2, "customer_id": ids["amy"], "payment_id": reports["amy"]},
            {"row": 7, "customer_id": ids["cy"]},
        ],
    )
    assert out == {
        "applied": [],
        "failed": [{"row": 2, "code": "already_applied"}, {"row": 7, "code": "already_applied"}],
    }
    # The next day's export: the 12/04 rows again (other line numbers) and a new one.
    later = statement_csv(
        [
            row("2026/12/04", "1,500", "013-****11111"),
            row("2026/12/04", "999", "812-****77777"),
            row("2026/12/04", "4,321", "812-****99999"),
            row("2026/12/05", "250", "822-****22222"),
        ]
    )
    overlap = upload(api, token, later, filename="dec-5.csv")
    rows = by_row(overlap)
    assert (rows[4]["status"], rows[4]["payment_id"]) == ("applied", shown[7]["payment_id"])
    out = apply(api, token, overlap["id"], [{"row": 4, "customer_id": ids["cy"]}])
    assert out["failed"] == [{"row": 4, "code": "already_applied"}]
    assert db.get_db().payments.count_documents({"status": "confirmed"}) == paid
    assert db.get_db().statement_rows.count_documents({}) == 6
    check_ledger()


def test_two_identical_transfers_of_one_day_are_two_rows(api, token):
    c = make_customer(api, token)
    data = statement_csv([row("2026/12/01", "500", "822-****12345")] * 2)
    st = upload(api, token, data)
    assert [r["row"] for r in st["rows"]] == [2, 3]
    out = apply(
        api, token, st["id"], [{"row": 2, "customer_id": c["id"]}, {"row": 3, "customer_id": c["id"]}]
    )
    assert len(out["applied"]) == 2
    again = upload(api, token, data)
    assert again["counts"]["applied"] == 2
    assert db.get_db().payments.count_documents({}) == 2
    check_ledger()


def test_dismiss(api, token):
    ids, _, data = shop(api, token)
    st = upload(api, token, data)
    apply(api, token, st["id"], [{"row": 6, "customer_id": ids["di"]}])
    r = api.post(f"/statements/{st['id']}/dismiss", {"rows": [7, 7, 6, 9]}, token=token)
    assert r.status == 200, r
    assert r.json == {
        "dismissed": [7],
        "failed": [{"row": 6, "code": "already_applied"}, {"row": 9, "code": "not_found"}],
    }
    again = api.post(f"/statements/{st['id']}/dismiss", {"rows": [7]}, token=token).json
    assert again == {"dismissed": [7], "failed": []}
    assert apply(api, token, st["id"], [{"row": 7, "customer_id": ids["cy"]}])["failed"] == [
        {"row": 7, "code": "dismissed"}
    ]
    shown = api.get(f"/statements/{st['id']}", token=token).json
    assert by_row(shown)[7]["status"] == "dismissed"
    assert shown["counts"] == {"proposed": 3, "unmatched": 0, "applied": 1, "dismissed": 1}
    listed = api.get("/statements", token=token).json
    assert [(s["id"], s["counts"]) for s in listed] == [(st["id"], shown["counts"])]


def test_open_rows_counts_each_row_once_across_uploads(api, token):
    ids, reports, data = shop(api, token)
    first = upload(api, token, data)
    upload(api, token, data)
    upload(api, token, statement_csv([row("2026/12/04", "4,321", "812-****99999"), row("2026/12/05", "60")]))
    apply(api, token, first["id"], [{"row": 2, "customer_id": ids["amy"], "payment_id": reports["amy"]}])
    opened = api.get("/statements/open", token=token).json
    assert opened["count"] == len(opened["rows"]) == 5  # 3, 5, 6, 7 of the first and the 60
    assert {(r["statement_id"], r["row"]) for r in opened["rows"] if r["amount"] != 60} == {
        (first["id"], n) for n in (3, 5, 6, 7)
    }
    by_amount = {r["amount"]: r for r in opened["rows"]}
    assert by_amount[1500]["proposals"][0]["customer_id"] == ids["cy"]
    assert by_amount[60]["status"] == "unmatched"
    listed = api.get("/statements", token=token).json
    assert [s["counts"]["applied"] for s in listed] == [0, 1, 1]  # newest first


def test_a_voided_payment_opens_its_row_again(api, token):
    ids, _, data = shop(api, token)
    st = upload(api, token, data)
    (made,) = apply(api, token, st["id"], [{"row": 7, "customer_id": ids["cy"]}])["applied"]
    assert api.post(f"/payments/{made['payment_id']}/void", token=token).status == 200
    assert by_row(api.get(f"/statements/{st['id']}", token=token).json)[7]["status"] == "unmatched"
    (again,) = apply(api, token, st["id"], [{"row": 7, "customer_id": ids["di"]}])["applied"]
    assert again["payment_id"] != made["payment_id"]
    live = list(db.get_db().payments.find({"status": "confirmed", "statement_row": {"$exists": True}}))
    assert [str(p["_id"]) for p in live] == [again["payment_id"]]
    check_ledger()


def test_an_apply_that_died_after_its_payment_is_finished_once(api, token, monkeypatch):
    """The request died between the payment and the row's mark (a Lambda timeout): the
    row stays claimed; a minute on, the next apply of it finishes the claim with the
    payment already made, never a second one."""
    from chalicelib.money import payments

    ids, _, data = shop(api, token)
    st = upload(api, token, data)
    real = payments.record_for_row

    def dies(*args):
        real(*args)
        raise RuntimeError("timed out")

    monkeypatch.setattr(payments, "record_for_row", dies)
    r = api.post(
        f"/statements/{st['id']}/apply", {"rows": [{"row": 7, "customer_id": ids["cy"]}]}, token=token
    )
    assert r.status == 500
    monkeypatch.setattr(payments, "record_for_row", real)
    (made,) = db.get_db().payments.find({"statement_row": {"$exists": True}})
    claimed = db.get_db().statement_rows.find_one({"status": "applying"})
    assert claimed["claim"]["customer_id"] == ObjectId(ids["cy"])
    # Within the minute another tab is told it is being applied.
    out = apply(api, token, st["id"], [{"row": 7, "customer_id": ids["di"]}])
    assert out["failed"] == [{"row": 7, "code": "already_applied"}]
    db.get_db().statement_rows.update_one(
        {"_id": claimed["_id"]}, {"$set": {"claim.at": claimed["claim"]["at"] - dt.timedelta(minutes=2)}}
    )
    out = apply(api, token, st["id"], [{"row": 7, "customer_id": ids["di"]}])
    assert out == {"applied": [{"row": 7, "payment_id": str(made["_id"])}], "failed": []}
    shown = by_row(api.get(f"/statements/{st['id']}", token=token).json)[7]
    assert (shown["status"], shown["customer_id"]) == ("applied", ids["cy"])  # for whom it was claimed
    assert db.get_db().payments.count_documents({"statement_row": {"$exists": True}}) == 1
    check_ledger()


def test_another_seller_sees_and_applies_nothing(api, token, other_token):
    ids, reports, data = shop(api, token)
    st = upload(api, token, data)
    sid = st["id"]
    assert api.get(f"/statements/{sid}", token=other_token).status == 404
    r = api.post(
        f"/statements/{sid}/apply", {"rows": [{"row": 7, "customer_id": ids["cy"]}]}, token=other_token
    )
    assert r.status == 404
    assert api.post(f"/statements/{sid}/dismiss", {"rows": [7]}, token=other_token).status == 404
    assert api.get("/statements", token=other_token).json == []
    assert api.get("/statements/open", token=other_token).json == {"count": 0, "rows": []}
    # The same file uploaded by the other seller is their own rows, proposing none of ours.
    theirs = upload(api, other_token, data)
    assert theirs["counts"]["unmatched"] == 5
    assert {d["status"] for d in db.get_db().statement_rows.find()} == {"open"}


def test_columns_mapping_and_its_memory(api, token):
    headers = ["日子", "說明", "出帳", "進帳", "結餘", "來源"]  # no bank's names the reader knows
    data = statement_csv([row("2026/12/01", "100", "822-****12345")], headers)
    r = api.call("POST", "/statements", raw=data, token=token, headers={"Content-Type": "text/csv"})
    assert r.status == 400, r
    assert r.json["error"]["code"] == "statement_columns"
    assert r.json["headers"] == headers and set(r.json["missing"]) >= {"date", "amount"}
    for bad, field in (
        ("{not json", "mapping"),
        ('["Date"]', "mapping"),
        ('{"amount": "進帳", "colour": "說明"}', "mapping.colour"),
    ):
        r = api.call(
            "POST",
            "/statements?mapping=" + quote(bad),
            raw=data,
            token=token,
            headers={"Content-Type": "text/csv"},
        )
        assert r.status == 400 and r.json["error"]["code"] == "invalid_mapping", r
        assert r.json["error"]["details"][0]["field"] == field, r.json
    # A header the file lacks: the columns answer again, with the file's headers.
    r = api.call(
        "POST",
        "/statements?mapping=" + quote('{"amount": "進帳款", "date": "日子"}'),
        raw=data,
        token=token,
        headers={"Content-Type": "text/csv"},
    )
    assert r.status == 400 and (r.json["error"]["code"], r.json["missing"], r.json["headers"]) == (
        "statement_columns",
        ["amount"],
        headers,
    ), r.json
    assert db.get_db().statements.count_documents({}) == 0
    assert db.get_db().statement_rows.count_documents({}) == 0
    assert db.get_db().statement_mappings.count_documents({}) == 0
    mapping = {"date": "日子", "amount": "進帳", "memo": "說明", "account": "來源"}
    st = upload(api, token, data, mapping=mapping)
    assert [(r["amount"], r["account_last5"]) for r in st["rows"]] == [(100, "12345")]
    # The next export of that bank needs no mapping; another seller's does.
    assert upload(api, token, data)["row_count"] == 1
    other = api.signup(shop_name="Other")
    r = api.call("POST", "/statements", raw=data, token=other, headers={"Content-Type": "text/csv"})
    assert r.status == 400 and r.json["error"]["code"] == "statement_columns"


def test_a_big5_export_and_an_xlsx_one_are_the_same_rows(api, token):
    """A bank's Big5 CSV (with its lines above the header) sent as octet-stream, then its
    .xlsx export of the same days: the rows are the same rows, applied once."""
    c = make_customer(api, token, name="陳小美", email="mei@example.com")
    make_order(api, token, customer_id=c["id"], item_name="抹茶", unit_price=1200)
    rows = [
        {"date": "2026/12/01", "deposit": "1,200", "memo": "跨行轉入", "account": "822-****12345"},
        {"date": "2026/12/01", "withdrawal": "300", "memo": "提款"},
        {"date": "2026/12/02", "deposit": "88", "memo": "利息"},
    ]
    r = api.call(
        "POST",
        "/statements?filename=" + quote("十二月.csv"),
        raw=bank_csv(rows),
        token=token,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status == 201, r
    st = r.json
    assert st["filename"] == "十二月.csv"
    first = by_row(st)[FIRST_ROW]
    assert (first["amount"], first["account_last5"], first["memo"]) == (1200, "12345", "跨行轉入")
    assert [(p["customer_name"], p["reason"]) for p in first["proposals"]] == [("陳小美", "balance_equals")]
    assert apply(api, token, st["id"], [{"row": FIRST_ROW, "customer_id": c["id"]}])["failed"] == []
    r = api.call(
        "POST",
        "/statements?filename=dec.xlsx",
        raw=bank_xlsx(rows),
        token=token,
        headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    assert r.status == 201, r
    assert r.json["counts"] == {"proposed": 0, "unmatched": 1, "applied": 1, "dismissed": 0}
    assert db.get_db().statement_rows.count_documents({}) == 2
    assert db.get_db().payments.count_documents({}) == 1
    check_ledger()


def test_a_file_the_reader_refuses_writes_nothing(api, token):
    for data in (b"%PDF-1.4 ...", "交易日期,存入\r\n2026/12/01,abc\r\n".encode("cp950")):
        r = api.call(
            "POST", "/statements", raw=data, token=token, headers={"Content-Type": "application/octet-stream"}
        )
        assert r.status == 400 and r.json["error"]["code"] in ("statement_format", "statement_rows"), r
    assert db.get_db().statements.count_documents({}) == 0
    assert db.get_db().statement_rows.count_documents({}) == 0
