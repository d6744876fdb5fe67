"""A renamed buyer's name reaches every copy (customers.CustomerChanged and its handlers,
docs/architecture.md): orders, payments, parcels, the packing slip and the tracking
pages of both a seller link and an emailed link; a handler that fails is retried, and
one that keeps failing is kept for `manage.py replay-events`, the rename answered."""

from __future__ import annotations

import re

from chalicelib import manage
from chalicelib.platform import db
from chalicelib.shipping import parcels
from chalicelib.tracking import tracking

LINK_RE = re.compile(r"https://shop\.example\.test/track\.html#([A-Za-z0-9_-]{43})")
OLD, NEW = "王小明", "林美玲"


def buyer_with_everything(api, token, ses, monkeypatch):
    """A buyer with two orders, a payment, a parcel (default recipient), a seller link
    and an emailed link. Returns (customer, parcel, [tokens])."""
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)
    c = api.post("/customers", {"email": "amy@example.com", "name": OLD}, token=token).json
    # First: a new seller link revokes every other link of the buyer.
    seller_link = api.post(f"/customers/{c['id']}/tracking-link", token=token).json["token"]
    orders = [
        api.post(
            "/orders",
            {"customer_id": c["id"], "item_name": "Tea", "quantity": 1, "unit_price": 300},
            token=token,
        ).json
        for _ in range(2)
    ]
    pay = {"customer_id": c["id"], "amount": 300, "method": "cash"}
    assert api.post("/payments", pay, token=token).status == 201
    box = {"customer_id": c["id"], "order_ids": [o["id"] for o in orders], "method": "home"}
    parcel = api.post("/parcels", box, token=token)
    assert parcel.status == 201, parcel
    assert parcel.json["recipient"]["name"] == OLD
    shop = api.get("/auth/me", token=token).json["shop_slug"]
    assert api.post("/track/request-link", {"shop_slug": shop, "email": "amy@example.com"}).status == 202
    emailed = {t for m in ses for t in LINK_RE.findall(m.body)}  # parcel, payment, asked-for
    assert len(emailed) == 3
    return c, parcel.json, [seller_link, *emailed]


def names_everywhere(api, token, c, parcel, links) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    orders = api.get(f"/orders?customer_id={c['id']}", token=token).json["items"]
    seen["orders"] = {o["buyer_name"] for o in orders}
    seen["payments"] = {
        p["buyer_name"] for p in api.get(f"/payments?customer_id={c['id']}", token=token).json["items"]
    }
    p = api.get(f"/parcels/{parcel['id']}", token=token).json
    seen["parcel"] = {p["buyer_name"], p["recipient"]["name"]}
    slip = api.get(f"/parcels/{parcel['id']}/packing-slip", token=token).body.decode()
    seen["slip"] = {n for n in (OLD, NEW) if n in slip}
    seen["tracking"] = {api.get(f"/track/{t}").json["buyer_name"] for t in links}
    return seen


def test_a_renamed_buyer_has_the_new_name_on_every_copy(api, token, ses, monkeypatch):
    c, parcel, links = buyer_with_everything(api, token, ses, monkeypatch)
    assert all(v == {OLD} for v in names_everywhere(api, token, c, parcel, links).values())
    r = api.patch(f"/customers/{c['id']}", {"name": NEW}, token=token)
    assert r.status == 200 and r.json["name"] == NEW
    assert names_everywhere(api, token, c, parcel, links) == dict.fromkeys(
        ("orders", "payments", "parcel", "slip", "tracking"), {NEW}
    )


def test_a_recipient_typed_otherwise_keeps_its_name(api, token, backend):
    c = api.post("/customers", {"email": "amy@example.com", "name": OLD}, token=token).json
    o = api.post(
        "/orders", {"customer_id": c["id"], "item_name": "Tea", "quantity": 1, "unit_price": 300}, token=token
    ).json
    box = {"customer_id": c["id"], "order_ids": [o["id"]], "method": "home", "recipient": {"name": "Grandma"}}
    pid = api.post("/parcels", box, token=token).json["id"]
    assert api.patch(f"/customers/{c['id']}", {"name": NEW}, token=token).status == 200
    p = api.get(f"/parcels/{pid}", token=token).json
    assert (p["buyer_name"], p["recipient"]["name"]) == (NEW, "Grandma")


def test_a_failing_copy_is_retried_then_kept_and_replayed(api, token, ses, monkeypatch, capsys):
    c, parcel, links = buyer_with_everything(api, token, ses, monkeypatch)
    real, failures = parcels._buyer_renamed, []

    def flaky(customer):
        if len(failures) < budget:
            failures.append(customer["name"])
            raise RuntimeError("parcel lock busy")
        real(customer)

    monkeypatch.setattr(parcels, "_buyer_renamed", flaky)
    budget = 2  # fewer than CustomerChanged.attempts: the retry writes it
    assert api.patch(f"/customers/{c['id']}", {"name": NEW}, token=token).status == 200
    assert (
        failures == [NEW, NEW] and api.get(f"/parcels/{parcel['id']}", token=token).json["buyer_name"] == NEW
    )

    failures.clear()
    budget = 3  # every attempt fails: the rename stands, the other copies are written
    r = api.patch(f"/customers/{c['id']}", {"name": "Amy"}, token=token)
    assert r.status == 200 and r.json["name"] == "Amy"
    seen = names_everywhere(api, token, c, parcel, links)
    assert seen["orders"] == seen["payments"] == seen["tracking"] == {"Amy"}
    assert seen["parcel"] == {NEW}
    (kept,) = db.get_db().event_failures.find()
    assert kept["handler"] == "shipping.parcels:customer_changed" and "parcel lock busy" in kept["error"]
    assert manage.main(["replay-events"]) == 0
    assert "1 run again, 0 still failing" in capsys.readouterr().out
    assert names_everywhere(api, token, c, parcel, links)["parcel"] == {"Amy"}
    assert db.get_db().event_failures.count_documents({}) == 0
