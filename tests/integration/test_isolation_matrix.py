"""Tenant isolation matrix: every authenticated route, called by a second seller with the
first seller's ids, answers 404 or an answer without any of the first seller's data,
and changes none of it. A route added to app.py without a row here fails the test."""

from urllib.parse import quote

import pytest
from bson import ObjectId

from app import ROUTES
from chalicelib.platform import blobs, db, roles
from tests.factories import make_customer, make_item, make_order
from tests.integration.test_members import join

# Marker strings only seller A's data contains; none may appear in B's answers.
A_BUYER = "isolation-a-buyer@example.com"
A_ITEM = "Isolation A Secret Item"
A_BATCH = "A-only trip 東京"
A_MEMBER = "isolation-a-helper@example.com"

# A bank statement (issue 28): A's has a row with "A note" as its memo; B uploads its own.
STATEMENT_CSV = "交易日期,摘要,存入,轉出帳號\r\n2026/12/01,{memo},4,822-****12345\r\n"
CSV = "buyer_email,buyer_name,item_name,quantity,unit_price,payment_status,fulfillment_status,note\r\nb@example.com,B,Thing,1,10,unpaid,pending,\r\n"

# (method, path) → (body or raw CSV, what B must get): "404" or "clean" (2xx without A's data).
MATRIX = {
    ("GET", "/auth/me"): (None, "clean"),
    ("PATCH", "/auth/me"): ({"shop_name": "B shop"}, "clean"),
    # B changes B's own password: nothing of A's is read or touched.
    ("POST", "/auth/password"): (
        {"current_password": "correct horse 1", "new_password": "violet teapot harbour 9"},
        "clean",
    ),
    # A's member (issue 31): B lists only B's own, invites its own, reaches none of A's.
    ("GET", "/members"): (None, "clean"),
    ("POST", "/members"): ({"email": "b-helper@example.com", "role": "staff"}, "clean"),
    ("PATCH", "/members/{member_id}"): ({"role": "owner"}, "404"),
    ("POST", "/members/{member_id}/invite"): (None, "404"),  # A's invite: no new link for B
    ("DELETE", "/members/{member_id}"): (None, "404"),
    ("GET", "/customers"): (None, "clean"),
    ("POST", "/customers"): ({"name": "A copy", "email": A_BUYER}, "clean"),
    ("GET", "/customers/{customer_id}"): (None, "404"),
    ("PATCH", "/customers/{customer_id}"): ({"note": "hacked"}, "404"),
    ("DELETE", "/customers/{customer_id}"): (None, "404"),
    ("POST", "/customers/{customer_id}/merge"): ({"from_customer_id": "{customer_id}"}, "404"),
    ("GET", "/customers/{customer_id}/tracking-link"): (None, "404"),
    ("POST", "/customers/{customer_id}/tracking-link"): (None, "404"),
    ("GET", "/customers/{customer_id}/tracking-links"): (None, "404"),
    ("DELETE", "/customers/{customer_id}/tracking-links/{link_id}"): (None, "404"),
    ("GET", "/items"): (None, "clean"),
    ("POST", "/items"): ({"item_name": "B item", "price": 1}, "clean"),
    ("GET", "/items/{item_id}"): (None, "404"),
    ("PATCH", "/items/{item_id}"): ({"stock": 0}, "404"),
    ("DELETE", "/items/{item_id}"): (None, "404"),
    ("POST", "/items/{item_id}/photos"): ({"content_type": "image/jpeg", "size": 1000}, "404"),
    ("GET", "/items/{item_id}/photos/{photo_id}"): (None, "404"),
    ("DELETE", "/items/{item_id}/photos/{photo_id}"): (None, "404"),
    ("GET", "/items/{item_id}/movements"): (None, "404"),
    ("POST", "/items/{item_id}/adjustments"): ({"delta": -1}, "404"),
    ("GET", "/orders"): (None, "clean"),
    ("POST", "/orders"): (
        {"customer_id": "{customer_id}", "item_name": "x", "quantity": 1, "unit_price": 1},
        "404",
    ),
    ("POST", "/orders/bulk"): ({"ids": ["{order_id}"], "set": {"payment_status": "refunded"}}, "clean"),
    # B's filter names A's batch and buyer: it matches B's own orders only (none).
    ("POST", "/orders/bulk/matching"): (
        {"where": {"batch": A_BATCH, "customer_id": "{customer_id}"}, "set": {"payment_status": "refunded"}},
        "clean",
    ),
    ("GET", "/orders/{order_id}"): (None, "404"),
    ("PATCH", "/orders/{order_id}"): ({"fulfillment_status": "cancelled"}, "404"),
    ("GET", "/reports/buyers"): (None, "clean"),
    ("GET", "/reports/items"): (None, "clean"),
    ("GET", "/reports/monthly"): (None, "clean"),
    ("GET", "/reports/profit"): (None, "clean"),
    ("GET", "/batches"): (None, "clean"),
    # B names A's batch: B gets (and makes) a batch of B's own with that name, nothing of A's.
    ("PATCH", "/batches/{batch}"): ({"rates": {"JPY": "0.5"}, "note": "B note"}, "clean"),
    # A's batch and notice (issue 29): B has no batch of that name, and A's notice is not B's.
    ("GET", "/batches/{batch}/notices"): (None, "clean"),
    ("POST", "/batches/{batch}/notices"): ({"kind": "arrived", "message": "B note"}, "404"),
    ("POST", "/batches/{batch}/notices/{notice_id}/sent"): ({"customer_ids": ["{customer_id}"]}, "404"),
    # The shopping trip: B's list of a batch of that name is B's own (empty).
    ("GET", "/batches/{batch}/shopping-list"): (None, "clean"),
    ("POST", "/batches/{batch}/purchases"): ({"item_id": "{item_id}", "quantity": 1}, "404"),
    ("DELETE", "/batches/{batch}/purchases/{purchase_id}"): (None, "404"),
    ("POST", "/batches/{batch}/shortages"): ({"item_id": "{item_id}", "keep": "first_ordered"}, "404"),
    ("GET", "/forms"): (None, "clean"),
    ("POST", "/forms"): ({"batch": "B trip", "title": "B form", "items": [{"item_id": "{item_id}"}]}, "404"),
    ("GET", "/forms/{form_id}"): (None, "404"),
    ("PATCH", "/forms/{form_id}"): ({"closed": True}, "404"),
    ("POST", "/forms/{form_id}/link"): (None, "404"),
    ("GET", "/forms/{form_id}/waitlist"): (None, "404"),
    ("DELETE", "/forms/{form_id}/waitlist/{entry_id}"): (None, "404"),
    ("GET", "/export/orders"): (None, "clean"),
    ("GET", "/export/payments"): (None, "clean"),
    ("GET", "/export/charges"): (None, "clean"),
    ("POST", "/import/orders"): (CSV, "clean"),
    ("GET", "/parcels"): (None, "clean"),
    ("POST", "/parcels"): (
        {"customer_id": "{customer_id}", "order_ids": ["{order_id}"], "method": "home"},
        "404",
    ),
    ("GET", "/parcels/ready"): (None, "clean"),
    ("GET", "/parcels/{parcel_id}"): (None, "404"),
    ("PATCH", "/parcels/{parcel_id}"): ({"tracking_number": "X1"}, "404"),
    ("DELETE", "/parcels/{parcel_id}"): (None, "404"),
    ("GET", "/parcels/{parcel_id}/packing-slip"): (None, "404"),
    ("GET", "/payments"): (None, "clean"),
    ("GET", "/charges"): (None, "clean"),
    ("POST", "/charges"): ({"customer_id": "{customer_id}", "amount": 1, "kind": "duty"}, "404"),
    ("GET", "/charges/{charge_id}"): (None, "404"),
    ("POST", "/charges/{charge_id}/void"): (None, "404"),
    ("POST", "/payments"): ({"customer_id": "{customer_id}", "amount": 1, "method": "cash"}, "404"),
    ("POST", "/payments/use-credit"): ({"customer_id": "{customer_id}"}, "404"),
    ("GET", "/payments/{payment_id}"): (None, "404"),
    ("POST", "/payments/{payment_id}/confirm"): (None, "404"),
    ("POST", "/payments/{payment_id}/reject"): ({"reason": "no"}, "404"),
    ("POST", "/payments/{payment_id}/void"): (None, "404"),
    ("POST", "/statements"): (STATEMENT_CSV.replace("{memo}", "B transfer"), "clean"),
    ("GET", "/statements"): (None, "clean"),
    ("GET", "/statements/open"): (None, "clean"),
    ("GET", "/statements/{statement_id}"): (None, "404"),
    ("POST", "/statements/{statement_id}/apply"): (
        {"rows": [{"row": 2, "customer_id": "{customer_id}"}]},
        "404",
    ),
    ("POST", "/statements/{statement_id}/dismiss"): ({"rows": [2]}, "404"),
}
QUERY_VARIANTS = {
    "/orders": ["", "?customer_id={customer_id}", "?q=isolation"],
    "/customers": ["", "?q=isolation"],
    "/items": ["", "?q=isolation"],
    "/reports/buyers": ["", "?format=csv"],
    "/reports/items": ["", "?format=csv"],
    "/reports/monthly": ["", "?format=csv"],
    "/reports/profit": ["", "?format=csv", "?batch={batch}", "?format=csv&by=month"],
    "/export/orders": ["?format=json", "?format=csv"],
    "/export/payments": ["?format=json", "?format=csv", "?format=json&customer_id={customer_id}"],
    "/export/charges": ["?format=json", "?format=csv", "?format=json&customer_id={customer_id}"],
    "/payments": ["", "?customer_id={customer_id}", "?status=confirmed"],
    "/charges": ["", "?customer_id={customer_id}", "?batch=" + quote(A_BATCH), "?status=open"],
    "/parcels": ["", "?customer_id={customer_id}", "?status=shipped"],
}


def test_every_authenticated_route_is_in_the_matrix():
    routes = {(r.method, r.path.replace("{name}", "{batch}")) for r in ROUTES if not r.public}
    assert routes == set(MATRIX)


# The role dimension (issue 31): each route called in A's own shop, with the body above, by
# A's owner and by a staff member of A (joined through the members API). What each gets:
# "ok" (2xx) or a status; "403" for staff is `forbidden_for_role`. Staff never read a cost.
# Where the body (meant for B) is refused in A's shop for a reason of the data (409, 400),
# both roles get the same answer: staff passed the role check and the route ran.
OK, DENIED = "ok", "403"
# (method, path) → {role: what they get}. A new route without a row here fails below.
ROLES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/auth/me"): {"owner": OK, "staff": OK},
    ("PATCH", "/auth/me"): {"owner": OK, "staff": DENIED},  # shop settings
    # Each changes their own password; the body has the owner's current one.
    ("POST", "/auth/password"): {"owner": OK, "staff": "400"},
    ("GET", "/members"): {"owner": OK, "staff": DENIED},
    ("POST", "/members"): {"owner": OK, "staff": DENIED},
    ("PATCH", "/members/{member_id}"): {"owner": OK, "staff": DENIED},
    ("POST", "/members/{member_id}/invite"): {"owner": OK, "staff": DENIED},
    ("DELETE", "/members/{member_id}"): {"owner": OK, "staff": DENIED},
    ("GET", "/customers"): {"owner": OK, "staff": OK},
    ("POST", "/customers"): {"owner": "409", "staff": "409"},  # A's buyer has that email
    ("GET", "/customers/{customer_id}"): {"owner": OK, "staff": OK},
    ("PATCH", "/customers/{customer_id}"): {"owner": OK, "staff": OK},
    ("DELETE", "/customers/{customer_id}"): {"owner": "409", "staff": "409"},  # has orders
    ("POST", "/customers/{customer_id}/merge"): {"owner": "400", "staff": "400"},  # itself
    ("GET", "/customers/{customer_id}/tracking-link"): {"owner": OK, "staff": OK},
    ("POST", "/customers/{customer_id}/tracking-link"): {"owner": OK, "staff": OK},
    ("GET", "/customers/{customer_id}/tracking-links"): {"owner": OK, "staff": OK},
    ("DELETE", "/customers/{customer_id}/tracking-links/{link_id}"): {"owner": OK, "staff": OK},
    ("GET", "/items"): {"owner": OK, "staff": OK},
    ("POST", "/items"): {"owner": OK, "staff": OK},
    ("GET", "/items/{item_id}"): {"owner": OK, "staff": OK},
    ("PATCH", "/items/{item_id}"): {"owner": OK, "staff": OK},
    ("DELETE", "/items/{item_id}"): {"owner": "409", "staff": "409"},  # orders use it
    ("POST", "/items/{item_id}/photos"): {"owner": OK, "staff": OK},
    ("GET", "/items/{item_id}/photos/{photo_id}"): {"owner": OK, "staff": OK},
    ("DELETE", "/items/{item_id}/photos/{photo_id}"): {"owner": OK, "staff": OK},
    ("GET", "/items/{item_id}/movements"): {"owner": OK, "staff": OK},
    ("POST", "/items/{item_id}/adjustments"): {"owner": OK, "staff": OK},
    ("GET", "/orders"): {"owner": OK, "staff": OK},
    ("POST", "/orders"): {"owner": OK, "staff": OK},
    ("POST", "/orders/bulk"): {"owner": OK, "staff": OK},
    ("POST", "/orders/bulk/matching"): {"owner": OK, "staff": OK},
    ("GET", "/orders/{order_id}"): {"owner": OK, "staff": OK},
    ("PATCH", "/orders/{order_id}"): {"owner": OK, "staff": OK},
    ("GET", "/reports/buyers"): {"owner": OK, "staff": OK},
    ("GET", "/reports/items"): {"owner": OK, "staff": OK},
    ("GET", "/reports/monthly"): {"owner": OK, "staff": OK},
    ("GET", "/reports/profit"): {"owner": OK, "staff": DENIED},  # profit
    ("GET", "/batches"): {"owner": OK, "staff": OK},
    ("PATCH", "/batches/{batch}"): {"owner": OK, "staff": DENIED},  # its body sets rates
    ("GET", "/batches/{batch}/notices"): {"owner": OK, "staff": OK},
    ("POST", "/batches/{batch}/notices"): {"owner": OK, "staff": OK},
    ("POST", "/batches/{batch}/notices/{notice_id}/sent"): {"owner": OK, "staff": OK},
    ("GET", "/batches/{batch}/shopping-list"): {"owner": OK, "staff": OK},
    ("POST", "/batches/{batch}/purchases"): {"owner": OK, "staff": OK},
    ("DELETE", "/batches/{batch}/purchases/{purchase_id}"): {"owner": "409", "staff": "409"},
    ("POST", "/batches/{batch}/shortages"): {"owner": OK, "staff": OK},
    ("GET", "/forms"): {"owner": OK, "staff": OK},
    ("POST", "/forms"): {"owner": OK, "staff": OK},
    ("GET", "/forms/{form_id}"): {"owner": OK, "staff": OK},
    ("PATCH", "/forms/{form_id}"): {"owner": OK, "staff": OK},
    ("POST", "/forms/{form_id}/link"): {"owner": OK, "staff": OK},
    ("GET", "/forms/{form_id}/waitlist"): {"owner": OK, "staff": OK},
    ("DELETE", "/forms/{form_id}/waitlist/{entry_id}"): {"owner": OK, "staff": OK},
    ("GET", "/export/orders"): {"owner": OK, "staff": DENIED},  # with costs
    ("GET", "/export/payments"): {"owner": OK, "staff": OK},
    ("GET", "/export/charges"): {"owner": OK, "staff": OK},
    ("POST", "/import/orders"): {"owner": OK, "staff": OK},
    ("GET", "/parcels"): {"owner": OK, "staff": OK},
    ("POST", "/parcels"): {"owner": OK, "staff": OK},
    ("GET", "/parcels/ready"): {"owner": OK, "staff": OK},
    ("GET", "/parcels/{parcel_id}"): {"owner": OK, "staff": OK},
    ("PATCH", "/parcels/{parcel_id}"): {"owner": OK, "staff": OK},
    ("DELETE", "/parcels/{parcel_id}"): {"owner": OK, "staff": OK},
    ("GET", "/parcels/{parcel_id}/packing-slip"): {"owner": OK, "staff": OK},
    ("GET", "/payments"): {"owner": OK, "staff": OK},
    ("GET", "/charges"): {"owner": OK, "staff": OK},
    ("POST", "/charges"): {"owner": OK, "staff": OK},
    ("GET", "/charges/{charge_id}"): {"owner": OK, "staff": OK},
    ("POST", "/charges/{charge_id}/void"): {"owner": OK, "staff": OK},
    ("POST", "/payments"): {"owner": OK, "staff": OK},
    ("POST", "/payments/use-credit"): {"owner": OK, "staff": OK},
    ("GET", "/payments/{payment_id}"): {"owner": OK, "staff": OK},
    ("POST", "/payments/{payment_id}/confirm"): {"owner": OK, "staff": OK},
    ("POST", "/payments/{payment_id}/reject"): {"owner": "409", "staff": "409"},  # confirmed
    ("POST", "/payments/{payment_id}/void"): {"owner": OK, "staff": OK},
    ("POST", "/statements"): {"owner": OK, "staff": OK},
    ("GET", "/statements"): {"owner": OK, "staff": OK},
    ("GET", "/statements/open"): {"owner": OK, "staff": OK},
    ("GET", "/statements/{statement_id}"): {"owner": OK, "staff": OK},
    ("POST", "/statements/{statement_id}/apply"): {"owner": OK, "staff": OK},
    ("POST", "/statements/{statement_id}/dismiss"): {"owner": OK, "staff": OK},
}


def test_every_route_has_a_row_for_each_role():
    routes = {(r.method, r.path.replace("{name}", "{batch}")) for r in ROUTES if not r.public}
    assert routes == set(ROLES)
    assert all(set(row) == {"owner", "staff"} for row in ROLES.values())


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value and "}" in value and "\r\n" not in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _snapshot(seller_id):
    return {
        name: sorted(str(d) for d in db.get_db()[name].find({"seller_id": seller_id}))
        for name in (
            "customers",
            "items",
            "orders",
            "tracking_links",
            "payments",
            "charges",
            "parcels",
            "batches",
            "forms",
            "statements",
            "statement_rows",
            "notices",
            "notice_recipients",
            "waitlist",
            "photos",
            "purchases",
            "members",
        )
    }


@pytest.fixture
def local_photos(tmp_path, monkeypatch):
    """A's photo kept as `make run` keeps one (no S3 here)."""
    monkeypatch.setenv("BLOB_DIR", str(tmp_path / "blobs"))
    blobs.reset()
    yield
    blobs.reset()


def _seed(api, token):
    """Seller A's data, one of each kind a route reads or changes: the ids, and A's ids
    and markers that must not reach anyone outside A's shop."""
    cust = make_customer(api, token, name="Isolation A", email=A_BUYER)
    item = make_item(api, token, item_name=A_ITEM, price=10, stock=5, cost=700, cost_currency="JPY")
    order = make_order(
        api, token, customer_id=cust["id"], item_id=item["id"], quantity=1, note="A note", batch=A_BATCH
    )
    form = api.post(
        "/forms",
        {
            "batch": A_BATCH,
            "title": "Isolation A form",
            "description": "A note",
            "items": [{"item_id": item["id"]}],
        },
        token=token,
    ).json
    assert (
        api.patch(
            f"/batches/{quote(A_BATCH)}", {"rates": {"JPY": "0.2115"}, "note": "A note"}, token=token
        ).status
        == 200
    )
    assert api.post(f"/customers/{cust['id']}/tracking-link", token=token).status == 201
    (link,) = api.get(f"/customers/{cust['id']}/tracking-links", token=token).json["items"]
    paid = api.post(
        "/payments", {"customer_id": cust["id"], "amount": 4, "method": "cash", "note": "A note"}, token=token
    )
    second = make_order(api, token, customer_id=cust["id"], item_id=item["id"], quantity=1)
    box = api.post(
        "/parcels",
        # A fee the buyer pays: A also has a charge (issue 26), which B's calls never show.
        {
            "customer_id": cust["id"],
            "order_ids": [second["id"]],
            "method": "home",
            "note": "A note",
            "shipping_fee": 3,
        },
        token=token,
    ).json
    owed = api.post(
        "/charges",
        {"customer_id": cust["id"], "amount": 6, "kind": "shipping", "note": "A note", "batch": A_BATCH},
        token=token,
    ).json
    statement = api.call(
        "POST",
        "/statements",
        raw=STATEMENT_CSV.replace("{memo}", "A note").encode(),
        token=token,
        headers={"Content-Type": "text/csv"},
    ).json
    notice = api.post(
        f"/batches/{quote(A_BATCH)}/notices", {"kind": "custom", "message": "A note"}, token=token
    )
    assert notice.status == 201, notice
    # More than the 5 in stock: A's buyer waits (B's calls neither see nor skip them).
    waiting = api.post(
        f"/f/{form['url'].split('#')[1]}/waitlist",
        {"name": "Isolation A", "email": A_BUYER, "item_id": item["id"], "quantity": 1000},
    )
    assert waiting.status == 201, waiting
    photo = api.post(f"/items/{item['id']}/photos", {"content_type": "image/png", "size": 10}, token=token)
    assert photo.status == 201, photo
    # A bought 2 on the trip: its order takes 1, 1 is left (a purchase B could undo).
    bought = api.post(
        f"/batches/{quote(A_BATCH)}/purchases", {"item_id": item["id"], "quantity": 2}, token=token
    )
    assert bought.status == 201, bought
    member = api.post("/members", {"email": A_MEMBER, "role": "staff"}, token=token)
    assert member.status == 201, member
    ids = {
        "member_id": member.json["id"],
        "photo_id": photo.json["photo_id"],
        "purchase_id": bought.json["purchase_id"],
        "entry_id": waiting.json["id"],
        "notice_id": notice.json["id"],
        "statement_id": statement["id"],
        "charge_id": owed["id"],
        "parcel_id": box["id"],
        "customer_id": cust["id"],
        "item_id": item["id"],
        "order_id": order["id"],
        "link_id": link["id"],
        "payment_id": paid.json["id"],
        "batch": quote(A_BATCH),
        "form_id": form["id"],
    }
    secrets = [
        cust["id"],
        item["id"],
        order["id"],
        link["id"],
        ids["payment_id"],
        ids["parcel_id"],
        ids["form_id"],
        ids["charge_id"],
        ids["statement_id"],
        second["id"],
        A_BUYER,
        A_ITEM,
        A_BATCH,
        A_MEMBER,
        member.json["id"],
        member.json["invite_url"].split("#invite=")[1],
        "0.2115",
        "Isolation A",
        "A note",
    ]
    return ids, secrets


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_second_seller_gets_nothing(api, token, other_token, method, path, local_photos):
    ids, secrets = _seed(api, token)
    seller_a = db.get_db().customers.find_one({"_id": ObjectId(ids["customer_id"])})["seller_id"]
    before = _snapshot(seller_a)

    body, expect = MATRIX[(method, path)]
    for query in QUERY_VARIANTS.get(path, [""]) if method == "GET" else [""]:
        url = path.format(**ids) + query.format(**ids)
        if isinstance(body, str):
            r = api.call(
                method, url, raw=body.encode(), token=other_token, headers={"Content-Type": "text/csv"}
            )
        else:
            r = api.call(method, url, body=_fill(body, ids), token=other_token)
        text = r.body.decode("utf-8", "replace")
        if expect == "404":
            assert r.status == 404, (url, r)
        else:
            assert 200 <= r.status < 300, (url, r)
        for secret in secrets:
            if method == "POST" and path == "/customers" and secret == A_BUYER:
                continue  # B may have a buyer with the same email: it is B's own customer
            if path in ("/batches/{batch}", "/batches/{batch}/shopping-list") and secret == A_BATCH:
                continue  # B named it: B's own batch of that name
            if path == "/orders/bulk" and secret == ids["order_id"]:
                assert r.json["failed"] == [{"id": ids["order_id"], "error": "not_found"}]
                continue
            assert secret not in text, (url, secret, text[:300])
    assert _snapshot(seller_a) == before


def _cost_fields(value, where=""):
    """Where an answer names a cost field (roles.COST_FIELDS), at any depth."""
    if isinstance(value, dict):
        return [f"{where}.{k}" for k in value if k in roles.COST_FIELDS] + [
            f for k, v in value.items() for f in _cost_fields(v, f"{where}.{k}")
        ]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _cost_fields(v, f"{where}[{i}]")]
    return []


@pytest.fixture
def staff_token(api, token):
    _, login = join(api, token, email="isolation-a-staff@example.com")
    return login["token"]


@pytest.mark.parametrize("role", ["owner", "staff"])
@pytest.mark.parametrize(("method", "path"), sorted(ROLES))
def test_each_role_in_its_own_shop(api, token, staff_token, role, method, path, local_photos):
    ids, _ = _seed(api, token)
    body, _ = MATRIX[(method, path)]
    expect = ROLES[(method, path)][role]
    who = {"owner": token, "staff": staff_token}[role]
    for query in QUERY_VARIANTS.get(path, [""]) if method == "GET" else [""]:
        url = path.format(**ids) + query.format(**ids)
        if isinstance(body, str):
            r = api.call(method, url, raw=body.encode(), token=who, headers={"Content-Type": "text/csv"})
        else:
            r = api.call(method, url, body=_fill(body, ids), token=who)
        if expect == OK:
            assert 200 <= r.status < 300, (role, url, r)
        else:
            assert r.status == int(expect), (role, url, r)
        if expect == DENIED and role == "staff":
            assert r.json["error"]["code"] == "forbidden_for_role", (url, r)
        if role == "staff" and method == "GET" and r.status == 200:
            if "text/csv" in r.headers.get("content-type", ""):
                header = r.body.decode("utf-8-sig").splitlines()[0].split(",")
                assert not roles.COST_FIELDS & set(header), (url, header)
            else:
                assert _cost_fields(r.json) == [], (url, r.json)
