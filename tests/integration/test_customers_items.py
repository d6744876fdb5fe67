from chalicelib.platform import db
from tests.factories import make_customer, make_order


def test_customer_crud_and_search(api, token):
    r = api.post(
        "/customers", {"name": " 王小明 ", "email": "Ming@Example.com", "phone": "0912-345-678"}, token=token
    )
    assert r.status == 201 and r.json["name"] == "王小明"
    cid = r.json["id"]
    make_customer(api, token, name="Amy Chen", email="amy@example.com")

    assert api.get(f"/customers/{cid}", token=token).json["phone"] == "+886912345678"  # stored in E.164
    found = api.get("/customers?q=小明", token=token).json["items"]
    assert [c["id"] for c in found] == [cid]
    assert [c["name"] for c in api.get("/customers?q=0912-345", token=token).json["items"]] == ["王小明"]
    # Regex characters are matched literally, not as a pattern.
    assert api.get("/customers?q=.*", token=token).json["items"] == []

    r = api.patch(f"/customers/{cid}", {"note": "prefers 7-11 pickup", "phone": None}, token=token)
    assert r.status == 200 and r.json["note"] == "prefers 7-11 pickup" and r.json["phone"] is None
    assert api.delete(f"/customers/{cid}", token=token).status == 204
    assert api.get(f"/customers/{cid}", token=token).status == 404


def test_customer_email_unique_case_insensitive(api, token):
    make_customer(api, token, name="A", email="same@example.com")
    r = api.post("/customers", {"name": "B", "email": "SAME@example.com"}, token=token)
    assert r.status == 409 and r.json["error"]["code"] == "duplicate_email"
    other = make_customer(api, token, name="C", email="c@example.com")["id"]
    r = api.patch(f"/customers/{other}", {"email": "Same@example.com"}, token=token)
    assert r.status == 409
    assert db.get_db().customers.count_documents({}) == 2


def test_customer_with_orders_cannot_be_deleted(api, token):
    r = api.post(
        "/orders",
        {"buyer_email": "b@example.com", "item_name": "Tea", "quantity": 1, "unit_price": 5},
        token=token,
    )
    cid = r.json["customer_id"]
    r = api.delete(f"/customers/{cid}", token=token)
    assert r.status == 409 and r.json["error"]["code"] == "customer_has_orders"


def test_rename_customer_updates_their_orders(api, token):
    r = api.post(
        "/orders",
        {"buyer_email": "b@example.com", "item_name": "Tea", "quantity": 1, "unit_price": 5},
        token=token,
    )
    api.patch(f"/customers/{r.json['customer_id']}", {"name": "Betty Lin"}, token=token)
    assert api.get(f"/orders/{r.json['id']}", token=token).json["buyer_name"] == "Betty Lin"


def test_a_renamed_buyer_with_a_parcel_gets_the_new_name_on_it_and_its_slip(api, token):
    """Issue 23 item 15: the parcel and its slip kept the old name."""
    r = api.post(
        "/orders",
        {"buyer_email": "b@example.com", "item_name": "Tea", "quantity": 1, "unit_price": 5},
        token=token,
    )
    cid = r.json["customer_id"]
    p = api.post(
        "/parcels",
        {
            "customer_id": cid,
            "order_ids": [r.json["id"]],
            "method": "cvs_711",
            "recipient": {"phone": "0912"},
        },
        token=token,
    ).json
    assert p["buyer_name"] == "b"
    assert api.patch(f"/customers/{cid}", {"name": "Betty Lin"}, token=token).status == 200
    assert api.get(f"/parcels/{p['id']}", token=token).json["buyer_name"] == "Betty Lin"
    assert [x["buyer_name"] for x in api.get(f"/parcels?customer_id={cid}", token=token).json["items"]] == [
        "Betty Lin"
    ]
    slip = api.get(f"/parcels/{p['id']}/packing-slip", token=token).body.decode()
    assert "<strong>Betty Lin</strong>" in slip and ">b<" not in slip


def test_pagination_walks_everything_once(api, token):
    for i in range(7):
        make_customer(api, token, name=f"C{i}", email=f"c{i}@example.com")
    seen, cursor = [], None
    while True:
        path = "/customers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(path, token=token).json
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"C{i}" for i in reversed(range(7))]
    assert api.get("/customers?limit=0", token=token).status == 400
    assert api.get("/customers?limit=201", token=token).status == 400
    assert api.get("/customers?cursor=!!notacursor", token=token).json["error"]["code"] == "invalid_cursor"


def test_item_crud_stock_and_money(api, token):
    r = api.post("/items", {"item_name": "Tokyo Banana", "price": 12.5, "stock": 3}, token=token)
    assert r.status == 201 and r.json["price"] == 12.5 and r.json["stock"] == 3
    iid = r.json["id"]
    assert db.get_db().items.find_one()["price"] == 1250  # cents inside
    r = api.patch(f"/items/{iid}", {"stock": None, "price": 13}, token=token)
    assert r.json["stock"] is None and r.json["price"] == 13
    for bad in ({"stock": -1}, {"stock": 1.5}, {"price": 1.234}, {"price": "¥13"}, {"price": None}, {}):
        assert api.patch(f"/items/{iid}", bad, token=token).status == 400, bad
    assert api.get(f"/items/{iid}", token=token).json["price"] == 13
    assert [i["item_name"] for i in api.get("/items?q=banana", token=token).json["items"]] == ["Tokyo Banana"]
    make_order(api, token, buyer_email="b@example.com", item_id=iid, quantity=1)
    r = api.delete(f"/items/{iid}", token=token)
    assert r.status == 409 and r.json["error"]["code"] == "item_in_use"


def test_malformed_and_unknown_ids_are_404(api, token):
    for path in ("/customers/xyz", "/customers/" + "0" * 24, "/items/123", "/orders/" + "g" * 24):
        r = api.get(path, token=token)
        assert r.status == 404 and r.json["error"]["code"] == "not_found", path
