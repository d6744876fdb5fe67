"""Property: after any sequence of creates, edits, cancels and bulk updates, tracked stock
is never negative and equals what the live orders took, and every total is
quantity × unit_price + shipping_fee."""

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.accounts import auth
from chalicelib.catalog import items
from chalicelib.catalog.schemas import ItemIn
from chalicelib.platform import db
from chalicelib.platform.errors import DomainError
from chalicelib.sales import orders
from chalicelib.sales.schemas import BulkIn, OrderIn, OrderPatch

INITIAL_STOCK = (5, 12)

op = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), st.integers(1, 6), st.integers(0, 300)),
    st.tuples(st.just("quantity"), st.integers(0, 20), st.integers(1, 8)),
    st.tuples(st.just("price"), st.integers(0, 20), st.integers(0, 99_999), st.integers(0, 500)),
    st.tuples(
        st.just("status"),
        st.integers(0, 20),
        st.sampled_from(["purchased", "shipped", "cancelled", "pending", "delivered"]),
    ),
    st.tuples(
        st.just("bulk"),
        st.lists(st.integers(0, 20), max_size=5),
        st.sampled_from(["cancelled", "shipped", "purchased"]),
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_stock_and_totals_stay_consistent(backend, ops):
    who = auth.Principal(seller_id=str(ObjectId()), timezone="Asia/Taipei", currency="TWD")
    item_ids = [
        items.create(who, ItemIn(item_name=f"item {i}-{who.seller_id}", price=100, stock=s))["id"]
        for i, s in enumerate(INITIAL_STOCK)
    ]
    order_ids: list[str] = []
    for step in ops:
        kind = step[0]
        try:
            if kind == "create":
                order, _ = orders.create(
                    who,
                    OrderIn(
                        buyer_email="b@example.com",
                        item_id=item_ids[step[1]],
                        quantity=step[2],
                        shipping_fee=step[3],
                    ),
                )
                order_ids.append(order["id"])
            elif order_ids and kind == "quantity":
                orders.update(who, order_ids[step[1] % len(order_ids)], OrderPatch(quantity=step[2]))
            elif order_ids and kind == "price":
                orders.update(
                    who,
                    order_ids[step[1] % len(order_ids)],
                    OrderPatch(unit_price=step[2], shipping_fee=step[3]),
                )
            elif order_ids and kind == "status":
                orders.update(
                    who, order_ids[step[1] % len(order_ids)], OrderPatch(fulfillment_status=step[2])
                )
            elif order_ids and kind == "bulk" and step[1]:
                ids = [order_ids[i % len(order_ids)] for i in step[1]]
                orders.bulk_update(
                    who, BulkIn.model_validate({"ids": ids, "set": {"fulfillment_status": step[2]}})
                )
        except DomainError:
            pass  # refusals (no stock, cancelled, bad transition) are part of the game

    seller_id = ObjectId(who.seller_id)
    docs = list(db.get_db().orders.find({"seller_id": seller_id}))
    for doc in docs:
        assert doc["total_amount"] == doc["quantity"] * doc["unit_price"] + doc["shipping_fee"]
    for item_id, initial in zip(item_ids, INITIAL_STOCK, strict=True):
        taken = sum(
            d["quantity"]
            for d in docs
            if str(d["item_id"]) == item_id and d["fulfillment_status"] != "cancelled"
        )
        stock = db.get_db().items.find_one({"_id": ObjectId(item_id)})["stock"]
        assert stock >= 0
        assert stock == initial - taken
