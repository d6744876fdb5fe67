"""Abuse and failure: the database going away, oversized and hostile bodies."""

import json
import time
import uuid

import pytest

from chalicelib.platform import config, db
from tests.conftest import FerretDB, use_database


@pytest.fixture
def own_ferretdb(tmp_path, monkeypatch):
    """A FerretDB of this test's own, so stopping it disturbs nobody else."""
    server = FerretDB(tmp_path / "data")
    server.start()
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "700")
    use_database(server.uri, "t_" + uuid.uuid4().hex[:8])
    db.ensure_indexes()
    yield server
    server.stop()
    db.reset_client()
    config.reset_settings()


@pytest.fixture
def client():
    from tests.conftest import Api, local_client

    with local_client() as c:
        yield Api(c)


def test_database_outage_is_503_then_recovers(own_ferretdb, client):
    token = client.signup()
    assert client.post("/customers", {"name": "A", "email": "a@example.com"}, token=token).status == 201

    own_ferretdb.stop()
    r = client.get("/customers", token=token)
    assert r.status == 503
    assert r.json["error"]["code"] == "database_unavailable"
    assert "Traceback" not in r.body.decode() and "pymongo" not in r.body.decode()
    assert r.headers["retry-after"] == "5"
    health = client.get("/health")
    assert health.status == 503 and health.json == {"status": "degraded", "db": "unavailable"}
    # Writes fail cleanly too.
    r = client.post(
        "/orders",
        {"buyer_email": "b@example.com", "item_name": "T", "quantity": 1, "unit_price": 1},
        token=token,
    )
    assert r.status == 503
    # Token checks need no database: a bad token is still a 401, not a 503.
    assert client.get("/customers", token="bad").status == 401

    own_ferretdb.start()  # same port, same data: a restarted server
    assert client.get("/health").json == {"status": "ok", "db": "ok"}
    names = [c["name"] for c in client.get("/customers", token=token).json["items"]]
    assert names == ["A"]


def test_postgresql_down_under_ferretdb_is_503_unavailable_then_recovers(own_ferretdb, client):
    """FerretDB still answers when its PostgreSQL is gone, with code 1 and the driver's
    words: that is an outage (retry later), not a refusal of the request."""
    token = client.signup()
    assert client.post("/customers", {"name": "A", "email": "a@example.com"}, token=token).status == 201

    own_ferretdb._db_sh("stop-postgresql")
    order = {"buyer_email": "b@example.com", "item_name": "T", "quantity": 1, "unit_price": 1}
    for r in (
        client.get("/customers", token=token),  # find
        client.post("/orders", order, token=token),  # writes
        client.patch("/auth/me", {"shop_name": "Renamed"}, token=token),  # findAndModify
        client.get("/orders?limit=5&sort=order_no", token=token),  # aggregate
    ):
        assert r.status == 503, r
        assert r.json["error"]["code"] == "database_unavailable", r
        assert r.headers["retry-after"] == "5"
    assert client.get("/health").json == {"status": "degraded", "db": "unavailable"}

    own_ferretdb.start()  # PostgreSQL again, under the same FerretDB
    # FerretDB's pooled connections to the old PostgreSQL fail once each ("broken pipe"):
    # still an outage while they are replaced, then answers again.
    deadline = time.monotonic() + 30
    while (r := client.get("/customers", token=token)).status != 200:
        assert r.status == 503 and r.json["error"]["code"] == "database_unavailable", r
        assert time.monotonic() < deadline, r
        time.sleep(0.1)  # between polls
    assert [c["name"] for c in r.json["items"]] == ["A"]
    assert client.post("/orders", order, token=token).status == 201


def test_oversized_body_is_413(api, token):
    r = api.post(
        "/customers",
        raw=json.dumps({"name": "A", "email": "a@example.com", "note": "x" * 1_000_001}),
        token=token,
    )
    assert r.status == 413 and r.json["error"]["code"] == "payload_too_large"
    assert db.get_db().customers.count_documents({}) == 0


def test_hostile_json_is_400(api, token):
    deep = '{"name": ' + "[" * 5000 + "]" * 5000 + "}"
    assert api.post("/customers", raw=deep, token=token).status == 400
    r = api.post("/customers", {"name": "A" * 100_000, "email": "a@example.com"}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "name"
    r = api.post("/customers", raw=b"\xff\xfe{}", token=token)
    assert r.status == 400 and r.json["error"]["code"] == "invalid_json"
    r = api.post("/customers", {"name": "A", "email": "a@example.com", "$where": "1"}, token=token)
    assert r.status == 400
    assert db.get_db().customers.count_documents({}) == 0


def test_framework_errors_use_the_contract_shape(api, token):
    r = api.post("/customers", raw=b"name=A", token=token, headers={"Content-Type": "text/plain"})
    assert r.status == 415
    assert r.json["error"]["code"] == "unsupported_media_type" and r.json["error"]["details"] == []
    r = api.call("PUT", "/customers", body={}, token=token)
    assert r.status == 405 and r.json["error"]["code"] == "method_not_allowed"
