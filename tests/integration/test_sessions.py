"""Sessions on both backends: short access tokens, rotating refresh tokens (reuse ends the
session), logout, password change, password reset by email (moto SES), failed-login
limits per email and client address, and untrimmed, not-too-common passwords."""

from __future__ import annotations

import datetime as dt
import re

import jwt
import pytest

from chalicelib.accounts import auth, login_limits, sessions
from chalicelib.accounts.schemas import LoginIn
from chalicelib.platform import config, db
from chalicelib.platform.errors import RateLimited, Unauthorized

PASSWORD = "correct horse 1"
NEW_PASSWORD = "violet teapot harbour 9"
RESET_RE = re.compile(r"https://shop\.example\.test/index\.html#reset=([A-Za-z0-9_-]{43})")


def login(api, email, password=PASSWORD):
    return api.post("/auth/login", {"email": email, "password": password})


@pytest.fixture
def seller(api):
    api.signup(email="owner@example.com")
    return "owner@example.com"


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    """The reset request's response-time floor only slows these tests down."""
    monkeypatch.setattr(auth, "RESET_FLOOR_SECONDS", 0.0)


def reset_tokens(sent, to):
    found = [m for msg in sent if to in msg.destinations["ToAddresses"] for m in RESET_RE.findall(msg.body)]
    return list(dict.fromkeys(found))  # the HTML body names each link twice


def test_login_gives_short_token_and_refresh_token(api, seller):
    r = login(api, seller)
    assert r.status == 200 and set(r.json) == {"token", "expires_at", "refresh_token"}
    claims = jwt.decode(r.json["token"], config.get_settings().jwt_secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 900  # 15 minutes, under the contract's hour
    assert claims["sid"]
    assert r.json["refresh_token"].startswith(claims["sid"] + ".")
    # Only a hash of the refresh token is stored.
    secret = r.json["refresh_token"].split(".")[1]
    assert not any(secret in str(d) for d in db.get_db().refresh_tokens.find())


def test_refresh_rotates_and_reuse_ends_the_session(api, seller):
    first = login(api, seller).json
    r = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status == 200 and r.json["refresh_token"] != first["refresh_token"]
    assert api.get("/auth/me", token=r.json["token"]).status == 200
    second = r.json
    # The spent token again: someone copied it. The session ends for both holders.
    r = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status == 401 and r.json["error"]["code"] == "refresh_token_reused"
    r = api.post("/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert r.status == 401 and r.json["error"]["code"] == "invalid_refresh_token"
    # The password still works: a new session.
    assert login(api, seller).status == 200


def test_refresh_refuses_garbage_and_forged_secrets(api, seller):
    real = login(api, seller).json["refresh_token"]
    sid = real.split(".")[0]
    for bad in ("", "x", f"{sid}.{'A' * 43}", "0" * 24 + "." + "A" * 43, real + "x"):
        r = api.post("/auth/refresh", {"refresh_token": bad})
        assert r.status in (400, 401), bad
    # A forged secret with the right session id does not end the real session.
    assert api.post("/auth/refresh", {"refresh_token": real}).status == 200


def test_logout_ends_only_that_session(api, seller):
    a = login(api, seller).json
    b = login(api, seller).json
    assert api.post("/auth/logout", {"refresh_token": a["refresh_token"]}).status == 204
    assert api.post("/auth/refresh", {"refresh_token": a["refresh_token"]}).status == 401
    assert api.post("/auth/refresh", {"refresh_token": b["refresh_token"]}).status == 200
    # Logging out twice is fine.
    assert api.post("/auth/logout", {"refresh_token": a["refresh_token"]}).status == 204


def test_password_change_ends_other_sessions(api, seller):
    here = login(api, seller).json
    there = login(api, seller).json
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    r = api.post("/auth/password", body, token=here["token"])
    assert r.status == 204, r
    assert api.post("/auth/refresh", {"refresh_token": there["refresh_token"]}).status == 401
    assert api.post("/auth/refresh", {"refresh_token": here["refresh_token"]}).status == 200
    assert login(api, seller).status == 401
    assert login(api, seller, NEW_PASSWORD).status == 200


def _chain(api, token, times=3):
    """PATCH /auth/me with `token`, then with the token each answer gave, `times` times."""
    statuses = []
    for _ in range(times):
        r = api.patch("/auth/me", {"shop_name": "Renamed"}, token=token)
        statuses.append(r.status)
        token = (r.json or {}).get("token", token)
    return statuses


def test_an_ended_session_mints_no_token(api, seller):
    """An access token outlives its session by up to 15 minutes; it must not renew itself."""
    ended = login(api, seller).json
    assert api.post("/auth/logout", {"refresh_token": ended["refresh_token"]}).status == 204
    assert _chain(api, ended["token"]) == [401, 401, 401]
    r = api.patch("/auth/me", {"shop_name": "Renamed"}, token=ended["token"])
    assert r.json["error"]["code"] == "invalid_refresh_token" and "token" not in r.json
    # Refused before anything was written.
    assert db.get_db().sellers.find_one({"email_lower": seller})["shop_name"] == "Tokyo Picks"
    # A live session renews as before, token after token.
    assert _chain(api, login(api, seller).json["token"]) == [200, 200, 200]


def test_a_password_change_stops_other_sessions_minting(api, seller):
    here = login(api, seller).json
    there = login(api, seller).json
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api.post("/auth/password", body, token=here["token"]).status == 204
    assert _chain(api, there["token"]) == [401, 401, 401]
    assert _chain(api, here["token"]) == [200, 200, 200]


def test_refresh_after_the_session_ended_mints_nothing(api, seller, monkeypatch):
    """A logout landing between the refresh token's rotation and the new access token:
    the answer is 401, not a token for the ended session."""
    s = login(api, seller).json
    real_tokens = auth._tokens

    def logout_meanwhile(seller_doc, session_id, refresh_token, member=None):
        sessions.revoke(session_id, reason="logout")
        return real_tokens(seller_doc, session_id, refresh_token, member)

    monkeypatch.setattr(auth, "_tokens", logout_meanwhile)
    r = api.post("/auth/refresh", {"refresh_token": s["refresh_token"]})
    assert r.status == 401 and "token" not in r.json, r


def test_password_change_checks_current_and_strength(api, seller):
    tok = login(api, seller).json["token"]
    r = api.post("/auth/password", {"current_password": "wrong one", "new_password": NEW_PASSWORD}, token=tok)
    assert r.status == 400 and r.json["error"]["code"] == "wrong_password"
    r = api.post("/auth/password", {"current_password": PASSWORD, "new_password": "password123"}, token=tok)
    assert r.status == 400 and r.json["error"]["code"] == "weak_password"
    assert (
        api.post("/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}).status == 401
    )
    assert login(api, seller).status == 200  # nothing changed


@pytest.mark.parametrize(
    "weak", ["password123", "qwertyuiop", "1234567890", "iloveyou2024", "owner@example.com"]
)
def test_common_passwords_refused_at_signup(api, weak):
    r = api.post("/auth/signup", {"email": "owner@example.com", "password": weak, "shop_name": "Tokyo Picks"})
    assert r.status == 400 and r.json["error"]["code"] == "weak_password", weak
    assert db.get_db().sellers.count_documents({}) == 0


def test_passwords_are_not_trimmed(api):
    spaced = "  correct horse 1  "
    r = api.post("/auth/signup", {"email": "s@example.com", "password": spaced, "shop_name": "S Shop"})
    assert r.status == 201
    assert login(api, "s@example.com", spaced).status == 200
    assert login(api, "s@example.com", "correct horse 1").status == 401


def test_failed_login_limit_per_email_and_client(api, seller):
    for _ in range(5):
        assert login(api, seller, "bad guess!!").status == 401
    r = login(api, seller)  # right password, same client: still limited
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    # Hammering does not extend the lock: refused attempts are not kept.
    for _ in range(5):
        assert login(api, seller, "bad guess!!").status == 429
    assert db.get_db().login_attempts.count_documents({"email_lower": seller}) == 5
    # The owner from another address gets in, and that clears the email's failures.
    assert auth.login(LoginIn(email=seller, password=PASSWORD), "203.0.113.9")["token"]
    assert db.get_db().login_attempts.count_documents({"email_lower": seller}) == 0
    assert login(api, seller).status == 200


def test_limit_lifts_after_the_window(api, seller):
    for _ in range(5):
        login(api, seller, "bad guess!!")
    assert login(api, seller).status == 429
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    db.get_db().login_attempts.update_many({}, {"$set": {"at": old}})
    assert login(api, seller).status == 200


def test_limit_per_client_address_across_emails(api, seller):
    client = "198.51.100.7"
    for i in range(login_limits.PER_CLIENT):
        with pytest.raises(Unauthorized):
            auth.login(LoginIn(email=f"guess{i}@example.com", password="bad guess!!"), client)
    with pytest.raises(RateLimited):
        auth.login(LoginIn(email=seller, password=PASSWORD), client)
    # Other addresses are not affected.
    assert auth.login(LoginIn(email=seller, password=PASSWORD), "198.51.100.8")["token"]


def test_reset_by_email_ends_sessions_and_unlocks(api, seller, ses):
    session = login(api, seller).json
    for _ in range(5):
        login(api, seller, "bad guess!!")
    assert login(api, seller).status == 429
    r = api.post("/auth/password-reset/request", {"email": "OWNER@example.com"})
    assert r.status == 202
    (tok,) = reset_tokens(ses, seller)
    assert not any(tok in str(d) for d in db.get_db().password_resets.find())  # stored hashed
    # A weak choice is refused and leaves the link usable.
    r = api.post("/auth/password-reset", {"token": tok, "new_password": "password123"})
    assert r.status == 400 and r.json["error"]["code"] == "weak_password"
    assert api.post("/auth/password-reset", {"token": tok, "new_password": NEW_PASSWORD}).status == 204
    # Single use; every session ended; the lock-out is cleared.
    r = api.post("/auth/password-reset", {"token": tok, "new_password": "another fine passphrase 3"})
    assert r.status == 400 and r.json["error"]["code"] == "invalid_reset_token"
    assert api.post("/auth/refresh", {"refresh_token": session["refresh_token"]}).status == 401
    assert login(api, seller, NEW_PASSWORD).status == 200


def test_reset_request_same_answer_for_unknown_email(api, seller, ses):
    known = api.post("/auth/password-reset/request", {"email": seller})
    unknown = api.post("/auth/password-reset/request", {"email": "nobody@example.com"})
    assert known.status == unknown.status == 202 and known.json == unknown.json
    assert [m.destinations["ToAddresses"] for m in ses] == [[seller]]


def test_reset_links_expire_are_replaced_and_rate_limited(api, seller, ses):
    for _ in range(4):
        assert api.post("/auth/password-reset/request", {"email": seller}).status == 202
    assert len(ses) == 3  # at most 3 emails an hour
    first, _, newest = reset_tokens(ses, seller)
    # Only the newest link works.
    assert api.post("/auth/password-reset", {"token": first, "new_password": NEW_PASSWORD}).status == 400
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.get_db().password_resets.update_many({}, {"$set": {"expires_at": old}})
    r = api.post("/auth/password-reset", {"token": newest, "new_password": NEW_PASSWORD})
    assert r.status == 400 and r.json["error"]["code"] == "invalid_reset_token"
    assert login(api, seller).status == 200


def test_reset_email_in_shop_language(api, seller, ses):
    tok = login(api, seller).json["token"]
    api.patch("/auth/me", {"language": "en"}, token=tok)
    api.post("/auth/password-reset/request", {"email": seller})
    assert ses[0].subject == "Tokyo Picks: reset your password"
