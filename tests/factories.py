"""Factories for the API tests: each makes one thing through the real API (the `api`
fixture of tests/conftest.py, so on every lane), asserts the status, and returns the JSON.

A factory never hides a failure: a refused write fails the test at the factory's line.
A test that expects a refusal calls `api.post` itself. Keyword arguments override the
defaults and are sent as given (None is sent as JSON null).
"""

from __future__ import annotations

from chalicelib.accounts import auth

BUYER = "amy@example.com"


def make_customer(api, token, **over) -> dict:
    """POST /customers: Amy unless told otherwise."""
    r = api.post("/customers", {"name": "Amy", "email": BUYER, **over}, token=token)
    assert r.status == 201, r
    return r.json


def make_item(api, token, **over) -> dict:
    """POST /items: an untracked item (no stock) at 100 unless told otherwise."""
    r = api.post("/items", {"item_name": "Tea", "price": 100, **over}, token=token)
    assert r.status == 201, r
    return r.json


def make_order(api, token, **over) -> dict:
    """POST /orders: one Tea at 100 for Amy. A `customer_id` replaces the buyer's email
    and an `item_id` the item's name and price, as the seller's page sends them."""
    body = {"quantity": 1}
    if "customer_id" not in over:
        body["buyer_email"] = BUYER
    if "item_id" not in over:
        body |= {"item_name": "Tea", "unit_price": 100}
    r = api.post("/orders", {**body, **over}, token=token)
    assert r.status == 201, r
    return r.json


def make_payment(api, token, customer_id, amount, **over) -> dict:
    """POST /payments: a bank transfer from the buyer, allocated by the server."""
    body = {"customer_id": customer_id, "amount": amount, "method": "bank_transfer", **over}
    r = api.post("/payments", body, token=token)
    assert r.status == 201, r
    return r.json


def make_principal(api, **signup):
    """A new seller, signed up through the API, as the domain layer sees them (for the
    race tests, which call the domain functions in threads)."""
    return auth.authenticate(f"Bearer {api.signup(**signup)}")


def two_variant_item(who, name: str, colours: tuple[str, str], stocks: tuple[int, int], price=390):
    """An item in two colours, made through the domain layer (the race tests): its id and
    its two variants' ids, each colour with its own stock."""
    import uuid

    from chalicelib.catalog import items
    from chalicelib.catalog.schemas import ItemIn

    body = ItemIn.model_validate(
        {
            "item_name": f"{name} {uuid.uuid4().hex[:6]}",
            "price": price,
            "options": [{"name": "顏色", "values": list(colours)}],
            "variants": [{"values": [c], "stock": n} for c, n in zip(colours, stocks, strict=True)],
        }
    )
    item = items.create(who, body)
    return item["id"], item["variants"][0]["id"], item["variants"][1]["id"]
