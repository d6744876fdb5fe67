import pytest

from chalicelib import manage
from chalicelib.platform import config, db
from tests.factories import make_item


def test_init_db_is_idempotent(backend, capsys):
    assert manage.main(["init-db"]) == 0
    assert manage.main(["init-db"]) == 0
    names = {ix["name"] for ix in db.get_db().orders.list_indexes()}
    assert {"seller_newest", "seller_order_no_unique"} <= names and "idempotency_unique" not in names
    out = capsys.readouterr().out
    if backend == "ferretdb":
        # One calm line for every TTL index FerretDB lacks, no per-collection warnings.
        assert out.count("Local FerretDB has no TTL indexes") == 2
        assert "not implemented" not in out


def test_create_seller_when_signup_is_closed(api, monkeypatch, capsys):
    monkeypatch.setenv("ALLOW_SIGNUP", "false")
    monkeypatch.setenv("SELLER_PASSWORD", "a long enough password")
    config.reset_settings()
    assert manage.main(["create-seller", "--email", "owner@example.com", "--shop-name", "Owner Shop"]) == 0
    r = api.post("/auth/login", {"email": "owner@example.com", "password": "a long enough password"})
    assert r.status == 200
    assert manage.main(["create-seller", "--email", "owner@example.com", "--shop-name", "Again"]) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("SELLER_PASSWORD", "short")
    assert manage.main(["create-seller", "--email", "x@example.com", "--shop-name", "X"]) == 1
    config.reset_settings()


@pytest.mark.parametrize("argv", [[], ["unknown"]])
def test_bad_commands(argv):
    with pytest.raises(SystemExit):
        manage.main(argv)


def test_check_reports_documents_the_api_cannot_read(api, token, capsys):
    """`check` reads every stored document through the output models: one that fails
    is reported (collection, id, field) and the exit code says so."""
    from bson import ObjectId

    body = {"buyer_email": "a@example.com", "item_name": "x", "quantity": 1, "unit_price": 5}
    oid = api.post("/orders", body, token=token).json["id"]
    item_id = make_item(api, token, item_name="Tea", price=3)["id"]
    assert manage.main(["check"]) == 0
    assert "every stored document reads" in capsys.readouterr().out

    # As the bulk update of issue 23 stored it, and a customer missing its name.
    db.get_db().orders.update_one({"_id": ObjectId(oid)}, {"$set": {"payment_status": None}})
    customer = db.get_db().customers.find_one()
    db.get_db().customers.update_one({"_id": customer["_id"]}, {"$unset": {"name": ""}})
    assert manage.main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"orders {oid} payment_status:") for line in lines), lines
    assert any(line.startswith(f"customers {customer['_id']} name:") for line in lines), lines
    assert not any(item_id in line for line in lines)
    assert lines[-1] == "2 unreadable document field(s)"
