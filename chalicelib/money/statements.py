"""Reconciliation (對帳, issue 28): a bank statement's incoming rows matched to buyers.

Three collections, written here only (docs/api.md, "Reconciliation"):
- `statements`: one document per upload: filename, uploaded_at, headers, mapping, the
  date range, and its rows as `[{row, key}]` in file order (`row`: the line number).
- `statement_rows`: one document per transfer, `_id` its identity (`key`): a hash of the
  seller, date, amount, memo, last five digits and its occurrence number among identical
  rows of one file. An overlapping upload finds its rows already there (inserted only if
  absent) with their status. `status`: `open` (shown as proposed/unmatched), `applying`
  (claimed by an apply, `claim` says for whom), `applied` (payment_id, customer_id),
  `dismissed`.
- `statement_mappings`: a seller's column mapping per set of headers (`_id`: both).

Applying a row claims it by a conditional update (open → applying, through store.py's
gate, so FerretDB runs it one at a time), then confirms the buyer's reported payment or
records a new one (payments.py owns them; the row's key is kept on the payment), then
marks the row applied. A crash between leaves the row `applying`: after STALE_CLAIM the
next apply of the row finishes the claim it finds, which makes no second payment (the
payment is found by its `statement_row`, or by the claim's Idempotency-Key). A payment
voided later opens its row again (payments.StatementPaymentVoided).

Proposals are worked out on every read, never stored, from three reads for all the rows
at once: the reported payments in the rows' dates ± 3 days, the buyers' balances (the
buyers report's), the last five digits of earlier confirmed payments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from typing import Any

from bson import ObjectId

from chalicelib.money import payments, statement_file
from chalicelib.money.schemas import StatementApplyIn, StatementDismissIn
from chalicelib.platform import clock, mongo, store
from chalicelib.platform.db import get_db, own
from chalicelib.platform.errors import DomainError, NotFound, ValidationFailed
from chalicelib.platform.ids import object_id
from chalicelib.platform.money import from_cents
from chalicelib.platform.principal import Principal
from chalicelib.reporting import reports

WINDOW = dt.timedelta(days=3)  # a report dated this close to the transfer may be it
STALE_CLAIM = dt.timedelta(seconds=60)  # longer than a Lambda call (15 s)
OPEN = ("open", "applying")  # an applying row is shown open until its payment is there
# Each reason's score; each further reason of the same buyer adds BONUS (at most 100).
SCORES = {"reported_transfer": 90, "reported_amount": 60, "balance_equals": 50, "same_account": 40}
BONUS = 10
CONFIDENT = 70  # and MARGIN over the next buyer, and a report no other open row proposes
MARGIN = 20
PASSED_ON = {"payment_not_reported", "amount_mismatch"}  # payments.py's refusals, as the row's failure


# --- the seller's column mapping --------------------------------------------------------


def _mapping(text: str | None) -> dict[str, str] | None:
    """?mapping= as {field: header}: 400 `invalid_mapping` naming what is wrong."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValidationFailed(
            '?mapping= must be a JSON object like {"amount": "<header>"}',
            code="invalid_mapping",
            details=[{"field": "mapping", "code": "invalid", "message": "not a JSON object of header names"}],
        )
    fields = set(statement_file.FIELDS)
    unknown = [f for f in value if f not in fields]
    if unknown:
        raise ValidationFailed(
            f"?mapping= names no field of ours: {', '.join(unknown)}",
            code="invalid_mapping",
            details=[{"field": f"mapping.{f}", "code": "unknown_field", "message": f} for f in unknown],
        )
    return value


def _mapping_id(seller_id, headers: list[str]) -> str:
    digest = hashlib.sha256(json.dumps(sorted(headers), ensure_ascii=False).encode()).hexdigest()
    return f"{seller_id}:{digest[:32]}"


def _remember(seller_id, headers: list[str], mapping: dict[str, str]) -> None:
    coll = get_db().statement_mappings
    fields = {"seller_id": seller_id, "headers": headers, "mapping": mapping, "updated_at": clock.now()}
    for _ in range(2):  # two first uploads at once: both upsert, one inserts
        try:
            coll.update_one({"_id": _mapping_id(seller_id, headers)}, {"$set": fields}, upsert=True)
            return
        except mongo.DuplicateKeyError:
            continue


def _read(
    seller_id, data: bytes, given: dict[str, str] | None, currency: str
) -> statement_file.ParsedStatement:
    """The file's rows: with the seller's mapping (given now, or remembered for the same
    headers), else as the reader places the columns."""
    try:
        parsed: statement_file.ParsedStatement | None = statement_file.parse(data, currency=currency)
        headers, unplaced = parsed.headers, None
    except statement_file.StatementColumns as exc:
        parsed, headers, unplaced = None, exc.headers, exc
    mapping = given
    if mapping is None:
        kept = get_db().statement_mappings.find_one({"_id": _mapping_id(seller_id, headers)})
        mapping = kept["mapping"] if kept else None
    if mapping:
        # A mapped header the file lacks leaves its field unplaced: 400 statement_columns.
        parsed = statement_file.parse(data, mapping=mapping, currency=currency)
        if given is not None:
            _remember(seller_id, headers, parsed.mapping)
    if parsed is None:
        raise unplaced
    return parsed


# --- uploading ----------------------------------------------------------------------------


def row_keys(seller_id, rows: list[statement_file.StatementRow]) -> list[str]:
    """Each row's identity: the same transfer in any upload of the seller has the same
    key; two identical transfers of one file are two (their occurrence number)."""
    seen: Counter = Counter()
    keys = []
    for r in rows:
        ident = (r.date.isoformat(), str(r.amount), r.memo, r.account_last5 or "")
        seen[ident] += 1
        text = "\x1f".join((str(seller_id), *ident, str(seen[ident])))
        keys.append(hashlib.sha256(text.encode()).hexdigest())
    return keys


def upload(principal: Principal, data: bytes | None, filename: str, mapping: str | None) -> dict:
    """POST /statements: read the file, store the rows not stored yet, answer the
    statement with its proposals. Nothing is written when the file is refused."""
    seller_id = object_id(principal.seller_id)
    given = _mapping(mapping)
    parsed = _read(seller_id, data or b"", given, principal.currency)
    keys = row_keys(seller_id, parsed.rows)
    now = clock.now()
    sid = ObjectId()
    days = [r.date.isoformat() for r in parsed.rows]
    span = {"from": min(days), "to": max(days)} if days else {"from": "", "to": ""}
    known = _rows_between(seller_id, span)
    fresh = [
        {
            "_id": key,
            "seller_id": seller_id,
            "date": r.date.isoformat(),
            "amount": r.amount,
            "memo": r.memo,
            "account_last5": r.account_last5,
            "status": "open",
            "statement_id": sid,  # the upload that first had it, and its line there
            "row": r.row,
            "created_at": now,
            "updated_at": now,
        }
        for r, key in zip(parsed.rows, keys, strict=True)
        if key not in known
    ]
    if fresh:
        try:
            get_db().statement_rows.insert_many(fresh, ordered=False)
        except mongo.BulkWriteError as exc:  # an upload of the same rows at once: theirs stays
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
            known |= _rows_between(seller_id, span)
    doc = {
        "_id": sid,
        "seller_id": seller_id,
        "filename": filename,
        "uploaded_at": now,
        "uploaded_by": principal.actor_id,
        "headers": parsed.headers,
        "mapping": parsed.mapping,
        **span,
        "rows": [{"row": r.row, "key": key} for r, key in zip(parsed.rows, keys, strict=True)],
    }
    get_db().statements.insert_one(doc)
    return _statement_out(principal, doc, known | {d["_id"]: d for d in fresh if d["_id"] not in known})


def _rows_between(seller_id, span: dict) -> dict[str, dict]:
    """The seller's stored rows dated within `span` (one read), by key."""
    if not span["from"]:
        return {}
    query = {"seller_id": seller_id, "date": {"$gte": span["from"], "$lte": span["to"]}}
    return {d["_id"]: d for d in get_db().statement_rows.find(query)}


# --- reading ------------------------------------------------------------------------------


def get(principal: Principal, statement_id: str) -> dict:
    doc = own("statements", object_id(principal.seller_id), statement_id, "statement")
    return _statement_out(principal, doc, _rows_between(doc["seller_id"], doc))


def search(principal: Principal) -> list[dict]:
    """GET /statements: the seller's uploads, newest first, with their counts (three
    reads for proposals plus two, however many statements)."""
    seller_id = object_id(principal.seller_id)
    docs = list(get_db().statements.find({"seller_id": seller_id}, sort=[("uploaded_at", -1), ("_id", -1)]))
    rows = {d["_id"]: d for d in get_db().statement_rows.find({"seller_id": seller_id})}
    proposed = _propose(principal, [d for d in rows.values() if d["status"] in OPEN])
    return [_summary(doc, [(e["row"], rows.get(e["key"])) for e in doc["rows"]], proposed) for doc in docs]


def open_rows(principal: Principal) -> dict:
    """GET /statements/open: every row not applied nor dismissed, across uploads, once
    each, with the statement (and line) where it first came."""
    seller_id = object_id(principal.seller_id)
    docs = list(get_db().statement_rows.find({"seller_id": seller_id, "status": {"$in": list(OPEN)}}))
    docs.sort(key=lambda d: (d["date"], str(d["statement_id"]), d["row"]))
    proposed = _propose(principal, docs)
    rows = [
        {
            **_row_out(d["row"], d, *proposed.get(d["_id"], ([], False))),
            "statement_id": str(d["statement_id"]),
        }
        for d in docs
    ]
    return {"count": len(rows), "rows": rows}


def _statement_out(principal: Principal, doc: dict, stored: dict[str, dict]) -> dict:
    lines = [(e["row"], stored.get(e["key"])) for e in doc["rows"]]
    proposed = _propose(principal, [d for _, d in lines if d is not None and d["status"] in OPEN])
    return {
        **_summary(doc, lines, proposed),
        "rows": [_row_out(n, d, *proposed.get(d["_id"], ([], False))) for n, d in lines if d is not None],
    }


def _summary(doc: dict, lines: list[tuple[int, dict | None]], proposed: dict) -> dict:
    counts = dict.fromkeys(("proposed", "unmatched", "applied", "dismissed"), 0)
    for _, d in lines:
        if d is not None:
            counts[_status(d, proposed.get(d["_id"], ([], False))[0])] += 1
    return {
        "id": str(doc["_id"]),
        "filename": doc["filename"],
        "uploaded_at": clock.iso(doc["uploaded_at"]),
        "row_count": len(doc["rows"]),
        "counts": counts,
    }


def _status(doc: dict, proposals: list) -> str:
    if doc["status"] in OPEN:
        return "proposed" if proposals else "unmatched"
    return doc["status"]


def _row_out(row: int, doc: dict, proposals: list[dict], confident: bool) -> dict:
    status = _status(doc, proposals)
    out: dict[str, Any] = {
        "row": row,
        "date": doc["date"],
        "amount": from_cents(doc["amount"]),
        "memo": doc["memo"],
        "account_last5": doc.get("account_last5"),
        "status": status,
        "confident": confident and status == "proposed",
        "proposals": proposals if status == "proposed" else [],
    }
    if status == "applied":
        out |= {
            "customer_id": str(doc["customer_id"]),
            "customer_name": doc.get("customer_name"),
            "payment_id": str(doc["payment_id"]),
        }
    return out


# --- proposals ----------------------------------------------------------------------------


def _propose(principal: Principal, docs: list[dict]) -> dict[str, tuple[list[dict], bool]]:
    """{row key: (proposals best first, confident)} for open rows, from three reads
    whatever their number."""
    if not docs:
        return {}
    seller_id = object_id(principal.seller_id)
    days = [dt.date.fromisoformat(d["date"]) for d in docs]
    reported: dict[int, list[dict]] = defaultdict(list)
    for p in payments.reported_between(seller_id, min(days) - WINDOW, max(days) + WINDOW):
        reported[p["amount"]].append(p)
    owing: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for b in reports.buyers(principal)["rows"]:
        balance = b["outstanding_amount"] - b["credit_amount"]
        if balance > 0:
            owing[balance].append((b["customer_id"], b["name"]))
    accounts: dict[str, dict[str, str | None]] = defaultdict(dict)
    for p in payments.accounts_seen(seller_id, [d["account_last5"] for d in docs if d.get("account_last5")]):
        accounts[p["account_last5"]][str(p["customer_id"])] = p.get("buyer_name")
    found = {}
    for doc, day in zip(docs, days, strict=True):
        found[doc["_id"]] = _proposals_of(doc, day, reported, owing, accounts)
    claims = Counter(p["payment_id"] for props in found.values() for p in props if p.get("payment_id"))
    out = {}
    for key, props in found.items():
        best = props[0] if props else None
        confident = (
            best is not None
            and best["score"] >= CONFIDENT
            and (len(props) == 1 or best["score"] - props[1]["score"] >= MARGIN)
            and (best.get("payment_id") is None or claims[best["payment_id"]] == 1)
        )
        out[key] = (props, confident)
    return out


def _proposals_of(doc: dict, day: dt.date, reported, owing, accounts) -> list[dict]:
    """One row's proposals: one per buyer, with every reason that holds for them."""
    buyers: dict[str, dict] = {}

    def add(customer_id: str, name, reason: str, payment_id: str | None = None) -> None:
        entry = buyers.setdefault(
            customer_id, {"customer_id": customer_id, "customer_name": name, "reasons": []}
        )
        entry["customer_name"] = entry["customer_name"] or name
        if reason not in entry["reasons"]:
            entry["reasons"].append(reason)
        if payment_id and "payment_id" not in entry:
            entry["payment_id"] = payment_id

    last5 = doc.get("account_last5")
    # The closest report first: a buyer's proposal names that one.
    near = sorted(
        (abs((dt.date.fromisoformat(p["paid_at"]) - day).days), str(p["_id"]), p)
        for p in reported[doc["amount"]]
    )
    for gap, pid, p in near:
        if gap > WINDOW.days:
            continue
        theirs = p.get("account_last5")
        if last5 and theirs and last5 != theirs:
            continue  # another account's transfer of the same amount
        add(
            str(p["customer_id"]),
            p.get("buyer_name"),
            "reported_transfer" if last5 and theirs else "reported_amount",
            pid,
        )
    for customer_id, name in owing[doc["amount"]]:
        add(customer_id, name, "balance_equals")
    for customer_id, name in (accounts[last5] if last5 else {}).items():
        add(customer_id, name, "same_account")
    out = []
    for entry in buyers.values():
        reasons = sorted(entry["reasons"], key=lambda r: -SCORES[r])
        score = min(100, SCORES[reasons[0]] + BONUS * (len(reasons) - 1))
        out.append({**entry, "reason": reasons[0], "reasons": reasons, "score": score})
    out.sort(key=lambda e: (-e["score"], e["customer_name"] or "", e["customer_id"]))
    return out


# --- applying and dismissing ----------------------------------------------------------------


def _own_rows(principal: Principal, statement_id: str) -> tuple[dict, dict[int, str], dict[str, dict]]:
    doc = own("statements", object_id(principal.seller_id), statement_id, "statement")
    return doc, {e["row"]: e["key"] for e in doc["rows"]}, _rows_between(doc["seller_id"], doc)


def apply(principal: Principal, statement_id: str, data: StatementApplyIn) -> dict:
    """POST /statements/{id}/apply: each row confirms the named reported payment or
    records a new one for the buyer. A row is applied at most once, in any upload."""
    doc, keys, stored = _own_rows(principal, statement_id)
    applied, failed = [], []
    for item in data.rows:
        key = keys.get(item.row)
        if key is None or key not in stored:
            failed.append({"row": item.row, "code": "not_found"})
            continue
        payment_id, code = _apply_row(principal, doc["seller_id"], stored[key], item)
        if payment_id:
            applied.append({"row": item.row, "payment_id": payment_id})
        else:
            failed.append({"row": item.row, "code": code})
    return {"applied": applied, "failed": failed}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # mongomock: naive UTC


def _refused(doc: dict | None) -> str:
    """Why a row that could not be claimed cannot be applied."""
    if doc is None:
        return "not_found"
    return "dismissed" if doc["status"] == "dismissed" else "already_applied"


def _apply_row(principal: Principal, seller_id, doc: dict, item) -> tuple[str | None, str | None]:
    coll = get_db().statement_rows
    key = doc["_id"]
    lock = store.statement_row_key(key)
    now = clock.now()
    claim = {
        "token": str(ObjectId()),
        "customer_id": ObjectId(item.customer_id),
        "payment_id": item.payment_id,
        "at": now,
    }
    took = store.update_one(
        coll,
        {"_id": key, "seller_id": seller_id, "status": "open"},
        {"$set": {"status": "applying", "claim": claim, "updated_at": now}},
        lock=lock,
    )
    if not took.matched_count:
        current = coll.find_one({"_id": key, "seller_id": seller_id})
        if (
            current is None
            or current["status"] != "applying"
            or now - _aware(current["claim"]["at"]) < STALE_CLAIM
        ):
            return None, _refused(current)
        # A claim whose request died: this one finishes it, for whom it was made.
        claim = current["claim"]
        took = store.update_one(
            coll,
            {"_id": key, "status": "applying", "claim.token": claim["token"], "claim.at": claim["at"]},
            {"$set": {"claim.at": now}},
            lock=lock,
        )
        if not took.matched_count:
            return None, _refused(coll.find_one({"_id": key}))
    mine = {"_id": key, "claim.token": claim["token"]}
    try:
        payment = _pay(principal, doc, claim)
    except DomainError as exc:
        store.update_one(
            coll, mine, {"$set": {"status": "open", "updated_at": now}, "$unset": {"claim": ""}}, lock=lock
        )
        if exc.code in PASSED_ON:
            return None, exc.code
        if isinstance(exc, NotFound):
            return None, "customer_not_found"
        raise
    store.update_one(
        coll,
        mine,
        {
            "$set": {
                "status": "applied",
                "payment_id": ObjectId(payment["id"]),
                "customer_id": ObjectId(payment["customer_id"]),
                "customer_name": payment.get("buyer_name"),
                "applied_at": now,
                "updated_at": now,
            },
            "$unset": {"claim": ""},
        },
        lock=lock,
    )
    return payment["id"], None


def _pay(principal: Principal, doc: dict, claim: dict) -> dict:
    if claim.get("payment_id"):
        return payments.confirm_for_row(
            principal, claim["payment_id"], claim["customer_id"], doc["amount"], doc["_id"]
        )
    return payments.record_for_row(
        principal,
        claim["customer_id"],
        doc["amount"],
        dt.date.fromisoformat(doc["date"]),
        doc.get("account_last5"),
        doc["_id"],
        f"statement-{claim['token']}",
    )


def dismiss(principal: Principal, statement_id: str, data: StatementDismissIn) -> dict:
    """POST /statements/{id}/dismiss: rows that are no buyer's money (a refund, a
    transfer between own accounts). An applied row stays applied (`already_applied`);
    dismissing again is no failure."""
    doc, keys, stored = _own_rows(principal, statement_id)
    coll = get_db().statement_rows
    dismissed, failed = [], []
    for row in dict.fromkeys(data.rows):
        key = keys.get(row)
        if key is None or key not in stored:
            failed.append({"row": row, "code": "not_found"})
            continue
        now = clock.now()
        took = store.update_one(
            coll,
            {"_id": key, "seller_id": doc["seller_id"], "status": "open"},
            {"$set": {"status": "dismissed", "dismissed_at": now, "updated_at": now}},
            lock=store.statement_row_key(key),
        )
        code = None if took.matched_count else _refused(coll.find_one({"_id": key}))
        if code in (None, "dismissed"):
            dismissed.append(row)
        else:
            failed.append({"row": row, "code": code})
    return {"dismissed": dismissed, "failed": failed}


def payment_voided(event: payments.StatementPaymentVoided) -> None:
    """The payment a row made or confirmed was voided: the row is open again (its money
    is to be matched anew), unless it is already another payment's."""
    store.update_one(
        get_db().statement_rows,
        {"_id": event.row_key, "status": "applied", "payment_id": event.payment_id},
        {
            "$set": {"status": "open", "updated_at": clock.now()},
            "$unset": {"payment_id": "", "customer_id": "", "customer_name": "", "applied_at": ""},
        },
        lock=store.statement_row_key(event.row_key),
    )
