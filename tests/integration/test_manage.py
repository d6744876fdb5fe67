import pytest

from chalicelib import config, db, manage


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
