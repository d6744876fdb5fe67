import datetime as dt

import jwt

from chalicelib.platform import config, db

PASSWORD = "correct horse 1"


def test_signup_login_me(api):
    r = api.post(
        "/auth/signup", {"email": "Mei@Example.com", "password": PASSWORD, "shop_name": "Mei's Tokyo Picks"}
    )
    assert r.status == 201
    seller = r.json["seller"]
    assert seller["email"] == "Mei@example.com"  # domain normalised, local part kept
    assert seller["shop_slug"] == "mei-s-tokyo-picks"
    assert (seller["timezone"], seller["currency"]) == ("Asia/Taipei", "TWD")
    stored = db.get_db().sellers.find_one({"email_lower": "mei@example.com"})
    assert stored["password_hash"].startswith("scrypt$") and PASSWORD not in stored["password_hash"]

    r = api.post("/auth/login", {"email": "MEI@example.com", "password": PASSWORD})
    assert r.status == 200 and r.json["expires_at"].endswith("Z")
    me = api.get("/auth/me", token=r.json["token"])
    assert me.status == 200 and me.json == seller


def test_duplicate_email_case_insensitive(api):
    api.signup(email="dup@example.com")
    r = api.post("/auth/signup", {"email": "DUP@example.com", "password": PASSWORD, "shop_name": "Other"})
    assert r.status == 409 and r.json["error"]["code"] == "email_taken"
    assert db.get_db().sellers.count_documents({}) == 1


def test_same_shop_name_gets_distinct_slug(api):
    a = api.post("/auth/signup", {"email": "a@example.com", "password": PASSWORD, "shop_name": "東京代購"})
    b = api.post("/auth/signup", {"email": "b@example.com", "password": PASSWORD, "shop_name": "東京代購"})
    assert a.json["seller"]["shop_slug"] == "shop"
    assert b.json["seller"]["shop_slug"].startswith("shop-") and b.status == 201


def test_short_password_and_bad_email(api):
    r = api.post("/auth/signup", {"email": "x@example.com", "password": "short", "shop_name": "S"})
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "password"
    r = api.post("/auth/signup", {"email": "nope", "password": PASSWORD, "shop_name": "S"})
    assert r.status == 400


def test_short_new_password_names_the_minimum_not_empty(api):
    """Issue 27: a 5-character password was reported as "cannot be empty" (string_too_short)."""
    r = api.post("/auth/signup", {"email": "five@example.com", "password": "abcde", "shop_name": "S"})
    assert r.status == 400
    [d] = r.json["error"]["details"]
    assert (d["field"], d["code"], d["min_length"]) == ("password", "below_min_length", 10)
    # An empty login password is still "cannot be empty": its minimum is one.
    r = api.post("/auth/login", {"email": "five@example.com", "password": ""})
    assert r.status == 400 and r.json["error"]["details"][0]["code"] == "string_too_short"
    # Nothing was written: the account does not exist.
    assert api.post("/auth/login", {"email": "five@example.com", "password": "abcde"}).status == 401


def test_signup_closed(api, monkeypatch):
    monkeypatch.setenv("ALLOW_SIGNUP", "false")
    config.reset_settings()
    r = api.post("/auth/signup", {"email": "x@example.com", "password": PASSWORD, "shop_name": "S"})
    assert r.status == 403 and r.json["error"]["code"] == "signup_disabled"
    config.reset_settings()


def test_wrong_password_and_unknown_email_look_the_same(api):
    api.signup(email="known@example.com")
    a = api.post("/auth/login", {"email": "known@example.com", "password": "wrong password"})
    b = api.post("/auth/login", {"email": "unknown@example.com", "password": "wrong password"})
    assert a.status == b.status == 401
    assert a.json == b.json


def test_login_rate_limit(api):
    api.signup(email="limit@example.com")
    for _ in range(5):
        assert (
            api.post("/auth/login", {"email": "limit@example.com", "password": "bad guess!!"}).status == 401
        )
    # Even the right password is refused while the limit holds.
    r = api.post("/auth/login", {"email": "limit@example.com", "password": PASSWORD})
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    # Other emails are not affected.
    api.signup(email="other@example.com")
    assert api.post("/auth/login", {"email": "other@example.com", "password": PASSWORD}).status == 200
    # Failures older than 15 minutes no longer count (TTL index or not).
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    db.get_db().login_attempts.update_many({}, {"$set": {"at": old}})
    assert api.post("/auth/login", {"email": "limit@example.com", "password": PASSWORD}).status == 200


def test_tokens_checked(api, token):
    assert api.get("/auth/me").status == 401
    r = api.get("/auth/me", token=token + "x")
    assert r.status == 401 and r.json["error"]["code"] == "unauthorized"
    expired = jwt.encode(
        {"sub": "a" * 24, "iat": 1, "exp": 2}, config.get_settings().jwt_secret, algorithm="HS256"
    )
    r = api.get("/auth/me", token=expired)
    assert r.status == 401 and r.json["error"]["code"] == "token_expired"
    forged = jwt.encode(
        {"sub": "a" * 24, "iat": 1, "exp": 2**40},
        "not-the-secret-but-long-enough-for-hs256!",
        algorithm="HS256",
    )
    assert api.get("/customers", token=forged).status == 401
    none_alg = jwt.encode({"sub": "a" * 24, "iat": 1, "exp": 2**40}, None, algorithm="none")
    assert api.get("/customers", token=none_alg).status == 401


def test_patch_me_returns_fresh_token_with_timezone(api, token):
    r = api.patch(
        "/auth/me", {"shop_name": "New Name", "timezone": "Asia/Tokyo", "currency": "JPY"}, token=token
    )
    assert r.status == 200
    assert r.json["seller"]["timezone"] == "Asia/Tokyo" and r.json["seller"]["currency"] == "JPY"
    claims = jwt.decode(r.json["token"], config.get_settings().jwt_secret, algorithms=["HS256"])
    assert claims["tz"] == "Asia/Tokyo"
    assert api.patch("/auth/me", {"timezone": "Mars/Olympus"}, token=token).status == 400
    assert api.patch("/auth/me", {"email": "x@y.co"}, token=token).status == 400
