"""Links that stay the same (issue 25): a buyer's seller link and a form's link can be
read again as often as wanted and only "new link" changes them; a copy of the database
alone holds neither the token nor the URL. On every backend."""

from __future__ import annotations

import hashlib
import secrets

from bson import json_util

from chalicelib.platform import config, db
from tests.factories import make_customer, make_item

SITE = "https://shop.example.test"  # PUBLIC_SITE_URL set in conftest
PRIVATE_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def current(api, token, customer_id):
    r = api.get(f"/customers/{customer_id}/tracking-link", token=token)
    assert r.status == 200, r
    return r.json


def opens(api, tok):
    return api.get(f"/track/{tok}").status == 200


def stored(collection) -> str:
    """Every stored document of a collection as text: what a copy of the database holds."""
    return json_util.dumps(list(db.get_db()[collection].find()))


def make_form(api, token, title="Tokyo group buy"):
    item = make_item(api, token, item_name="Pocky", price=100, stock=5)
    r = api.post("/forms", {"batch": "B", "title": title, "items": [{"item_id": item["id"]}]}, token=token)
    assert r.status == 201, r
    return r.json


def form_token(url):
    assert url.startswith(f"{SITE}/form.html#"), url
    return url.split("#")[1]


# --- the buyer's seller link ---------------------------------------------------------


def test_copying_a_buyers_link_gives_the_same_link_every_time(api, token):
    amy = make_customer(api, token)
    first = current(api, token, amy["id"])
    assert set(first) == {"url", "token", "created_at"}
    assert first["url"] == f"{SITE}/track.html#{first['token']}" and len(first["token"]) == 43
    assert first["created_at"].endswith("Z")
    assert [current(api, token, amy["id"]) for _ in range(3)] == [first] * 3
    assert opens(api, first["token"])
    r = api.get(f"/customers/{amy['id']}/tracking-link", token=token)
    assert {k: r.headers.get(k) for k in PRIVATE_HEADERS} == PRIVATE_HEADERS
    (only,) = api.get(f"/customers/{amy['id']}/tracking-links", token=token).json["items"]
    assert only["kind"] == "seller"
    # Another buyer has a link of their own.
    ben = make_customer(api, token, name="Ben", email="ben@example.com")
    assert current(api, token, ben["id"])["token"] != first["token"]


def test_new_link_changes_it_and_the_old_one_stops_working(api, token):
    amy = make_customer(api, token)
    old = current(api, token, amy["id"])
    r = api.post(f"/customers/{amy['id']}/tracking-link", token=token)
    assert r.status == 201, r
    new = r.json
    assert new["token"] != old["token"] and set(new) == {"url", "token", "created_at"}
    assert api.get(f"/track/{old['token']}").status == 404
    assert opens(api, new["token"])
    assert current(api, token, amy["id"]) == new  # copy again: the new one, unchanged
    assert current(api, token, amy["id"]) == new


def test_another_sellers_customer_is_404_and_gets_no_link(api, token, other_token):
    amy = make_customer(api, token)
    assert api.get(f"/customers/{amy['id']}/tracking-link", token=other_token).status == 404
    assert api.get("/customers/nope/tracking-link", token=token).status == 404
    assert api.get(f"/customers/{amy['id']}/tracking-link").status == 401
    assert db.get_db().tracking_links.count_documents({}) == 0


def test_a_copy_of_the_database_holds_no_token_and_no_url(api, token):
    amy = make_customer(api, token)
    link = current(api, token, amy["id"])
    form = make_form(api, token)
    again = api.get(f"/forms/{form['id']}", token=token).json
    assert again["url"] == form["url"]
    secrets_shown = [link["token"], link["url"], form_token(form["url"]), form["url"]]
    copy = stored("tracking_links") + stored("forms")
    assert [s for s in secrets_shown if s in copy] == []
    # What is stored is the hash (and a nonce the token cannot be made from without the
    # server's key).
    assert hashlib.sha256(link["token"].encode()).hexdigest() in stored("tracking_links")
    assert hashlib.sha256(form_token(form["url"]).encode()).hexdigest() in stored("forms")


def test_a_link_that_cannot_be_shown_again_keeps_working_beside_a_new_one(api, monkeypatch):
    """A seller link from before this change (random token, no nonce): the buyer keeps it,
    GET makes the current one beside it. A new JWT_SECRET is the same case: the key
    comes from it, so the stored nonce alone names no token."""
    token = api.signup(email="owner@example.com")
    amy = make_customer(api, token)
    links = db.get_db().tracking_links
    before = current(api, token, amy["id"])
    legacy = secrets.token_urlsafe(32)
    links.update_one(
        {"seller_link_of": db.get_db().customers.find_one({"name": "Amy"})["_id"]},
        {"$set": {"token_hash": hashlib.sha256(legacy.encode()).hexdigest()}, "$unset": {"link_nonce": ""}},
    )
    assert opens(api, legacy) and not opens(api, before["token"])
    shown = current(api, token, amy["id"])
    assert shown["token"] not in (legacy, before["token"])
    assert opens(api, shown["token"]) and opens(api, legacy)  # nothing the buyer has broke
    assert current(api, token, amy["id"]) == shown  # and it stays the same from now on

    monkeypatch.setenv("JWT_SECRET", "another-secret-" + "x" * 40)
    config.reset_settings()
    try:
        login = api.post("/auth/login", {"email": "owner@example.com", "password": "correct horse 1"})
        token = login.json["token"]
        rotated = current(api, token, amy["id"])
        assert rotated["token"] != shown["token"]
        assert [opens(api, t) for t in (legacy, shown["token"], rotated["token"])] == [True] * 3
        assert current(api, token, amy["id"]) == rotated
        # "New link" ends them all.
        fresh = api.post(f"/customers/{amy['id']}/tracking-link", token=token).json
        tokens = (legacy, shown["token"], rotated["token"], fresh["token"])
        assert [opens(api, t) for t in tokens] == [False, False, False, True]
        assert links.count_documents({}) == 1
    finally:
        monkeypatch.undo()
        config.reset_settings()


# --- forms -----------------------------------------------------------------------------


def test_a_forms_url_is_the_same_on_every_read_until_a_new_link(api, token):
    form = make_form(api, token)
    url = form["url"]
    assert api.get(f"/f/{form_token(url)}").status == 200
    for _ in range(2):
        assert api.get(f"/forms/{form['id']}", token=token).json["url"] == url
        assert [f["url"] for f in api.get("/forms", token=token).json["items"]] == [url]

    r = api.post(f"/forms/{form['id']}/link", token=token)
    assert r.status == 200, r
    new = r.json["url"]
    assert new != url
    assert api.get(f"/f/{form_token(url)}").status == 404
    assert api.get(f"/f/{form_token(new)}").status == 200
    assert api.get(f"/forms/{form['id']}", token=token).json["url"] == new
    assert [f["url"] for f in api.get("/forms", token=token).json["items"]] == [new]
    # PATCH answers with it too.
    assert api.patch(f"/forms/{form['id']}", {"title": "Renamed"}, token=token).json["url"] == new


def test_another_sellers_form_is_404_and_keeps_its_link(api, token, other_token):
    form = make_form(api, token)
    assert api.get(f"/forms/{form['id']}", token=other_token).status == 404
    assert api.post(f"/forms/{form['id']}/link", token=other_token).status == 404
    assert api.get("/forms", token=other_token).json["items"] == []
    assert api.get(f"/forms/{form['id']}", token=token).json["url"] == form["url"]
    assert api.get(f"/f/{form_token(form['url'])}").status == 200


def test_a_form_from_before_has_no_url_until_a_new_link(api, token):
    form = make_form(api, token)
    db.get_db().forms.update_one({}, {"$unset": {"link_nonce": ""}})  # as forms made before
    assert api.get(f"/forms/{form['id']}", token=token).json["url"] is None
    assert api.get("/forms", token=token).json["items"][0]["url"] is None
    assert api.get(f"/f/{form_token(form['url'])}").status == 200  # its link still works
    new = api.post(f"/forms/{form['id']}/link", token=token).json["url"]
    assert api.get(f"/forms/{form['id']}", token=token).json["url"] == new
