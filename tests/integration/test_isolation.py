"""A second seller, given the first seller's ids, gets 404 or empty on every route."""

from chalicelib.platform import db
from tests.factories import make_customer, make_item, make_order


def seed(api, token):
    cust = make_customer(api, token)
    item = make_item(api, token, price=10, stock=5)
    return cust, item, make_order(api, token, customer_id=cust["id"], item_id=item["id"])


def test_second_seller_sees_and_touches_nothing(api, token, other_token):
    cust, item, order = seed(api, token)
    before = {name: list(db.get_db()[name].find()) for name in ("customers", "items", "orders")}
    t = other_token
    for path in (f"/customers/{cust['id']}", f"/items/{item['id']}", f"/orders/{order['id']}"):
        assert api.get(path, token=t).status == 404, path
        assert api.patch(path, {"note": "hacked"}, token=t).status == 404, path
    assert api.delete(f"/customers/{cust['id']}", token=t).status == 404
    assert api.delete(f"/items/{item['id']}", token=t).status == 404
    for path in ("/customers", "/items", "/orders", f"/orders?customer_id={cust['id']}", "/customers?q=amy"):
        assert api.get(path, token=t).json["items"] == [], path
    # Using the first seller's customer or item in an order is a 404, and writes nothing.
    r = api.post(
        "/orders", {"customer_id": cust["id"], "item_name": "X", "quantity": 1, "unit_price": 1}, token=t
    )
    assert r.status == 404
    r = api.post("/orders", {"buyer_email": "b@example.com", "item_id": item["id"], "quantity": 1}, token=t)
    assert r.status == 404
    r = api.post("/orders/bulk", {"ids": [order["id"]], "set": {"payment_status": "remitted"}}, token=t)
    assert r.json == {"updated": 0, "unchanged": 0, "failed": [{"id": order["id"], "error": "not_found"}]}
    # The same customer email at another shop is a different customer.
    assert api.post("/customers", {"name": "Amy", "email": "amy@example.com"}, token=t).status == 201
    after = {
        name: list(db.get_db()[name].find({"_id": {"$in": [d["_id"] for d in before[name]]}}))
        for name in before
    }
    assert after == before
