"""Buyers without email (issue 25): the stored contact forms and the unique email key, on
every lane."""

import datetime as dt

import pytest
from bson import ObjectId

from chalicelib.buyers import customers
from chalicelib.platform import db, mongo
from chalicelib.platform.db import ensure_indexes, get_db

NOW = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)


def test_buyers_without_email_coexist_and_an_email_stays_unique_per_seller(backend):
    seller, other = ObjectId(), ObjectId()
    coll = get_db().customers
    coll.insert_one(customers.customer_document(seller, None, "林志明", NOW, phone="+886912345678"))
    coll.insert_one(customers.customer_document(seller, None, "林志明", NOW, line_id="Lin88"))
    coll.insert_one(customers.customer_document(seller, "amy@example.com", "Amy", NOW))
    coll.insert_one(customers.customer_document(other, "AMY@example.com", "Amy", NOW))  # another shop
    with pytest.raises(mongo.DuplicateKeyError):
        coll.insert_one(customers.customer_document(seller, "Amy@Example.com", "Amy 2", NOW))
    assert coll.count_documents({"seller_id": seller}) == 3
    by_line = coll.find_one({"seller_id": seller, "line_id_key": "lin88"})
    assert (by_line["name"], by_line["line_id"], by_line["email"]) == ("林志明", "Lin88", None)
    assert "email_key" not in by_line and "email_lower" not in by_line


def test_a_buyer_met_only_by_a_contact_is_named_after_it(backend):
    doc = customers.customer_document(ObjectId(), None, None, NOW, line_id="amy_88")
    assert doc["name"] == "LINE amy_88"
    assert (
        customers.customer_document(ObjectId(), None, None, NOW, phone="+886912345678")["name"]
        == "+886912345678"
    )


def test_init_db_gives_old_customers_their_email_key_and_e164_phones(backend):
    """Customers stored before issue 25: unique by (seller_id, email_lower), phones as typed."""
    seller = ObjectId()
    coll = get_db().customers
    for ix in list(coll.list_indexes()):  # as an older version left them (drop_indexes(): not on mongo-java)
        if ix["name"] != "_id_":
            coll.drop_index(ix["name"])
    coll.create_index([("seller_id", 1), ("email_lower", 1)], unique=True, name="seller_email_unique")
    old = {"seller_id": seller, "name": "Amy", "email": "Amy@example.com", "email_lower": "amy@example.com"}
    coll.insert_many(
        [
            {**old, "phone": "0912-345-678"},
            {**old, "email": "b@example.com", "email_lower": "b@example.com", "phone": "call me after 6"},
            {**old, "email": "c@example.com", "email_lower": "c@example.com", "phone": None},
        ]
    )
    assert customers.migrate_contacts() == 3
    assert customers.migrate_contacts() == 0  # nothing left to do
    ensure_indexes()
    names = {ix["name"] for ix in coll.list_indexes()}
    assert "seller_email_unique" not in names and "email_key_unique" in names
    stored = {d["email_lower"]: d for d in coll.find({"seller_id": seller})}
    assert stored["amy@example.com"]["phone"] == "+886912345678"
    assert stored["b@example.com"]["phone"] == "call me after 6"  # kept: it cannot be read as a number
    assert stored["c@example.com"]["email_key"] == f"{seller}:c@example.com"
    with pytest.raises(mongo.DuplicateKeyError):
        coll.insert_one(customers.customer_document(seller, "AMY@example.com", "Amy again", NOW))
    db.reset_client()
