"""Races on sign-in writes, on the real server (FerretDB over a socket), many threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.accounts import auth, passwords
from chalicelib.accounts.schemas import LoginIn, PasswordResetIn
from chalicelib.platform import db
from chalicelib.platform.errors import DomainError
from tests.conftest import at_once

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)
PASSWORD = "correct horse 1"


def outcome(fn, *args):
    try:
        fn(*args)
        return "ok"
    except DomainError as exc:
        return exc.code


def test_parallel_guesses_get_at_most_five_checks(api, monkeypatch):
    """19 wrong passwords and then the right one, all at once from one address: the
    attempts are recorded before they are counted, so at most 5 passwords are checked."""
    api.signup(email="owner@example.com")
    checked = []
    real_verify = passwords.verify_password

    def counting_verify(password, stored):
        checked.append(password)
        return real_verify(password, stored)

    monkeypatch.setattr(auth, "verify_password", counting_verify)
    guesses = [f"wrong guess {i}" for i in range(19)] + [PASSWORD]
    with ThreadPoolExecutor(20) as pool:
        results = list(
            pool.map(
                lambda p: outcome(auth.login, LoginIn(email="owner@example.com", password=p), "10.0.0.1"),
                guesses,
            )
        )
    assert len(checked) <= 5, len(checked)
    assert results.count("rate_limited") >= 15
    assert results.count("rate_limited") + results.count("invalid_credentials") + results.count("ok") == 20
    # Refused attempts were not kept: only the checked ones count as failures.
    kept = db.get_db().login_attempts.count_documents({"email_lower": "owner@example.com"})
    assert kept == (0 if "ok" in results else len(checked))


def test_parallel_refresh_with_one_token_ends_the_session(api):
    api.signup(email="owner@example.com")
    session = auth.login(LoginIn(email="owner@example.com", password=PASSWORD), "10.0.0.1")
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: outcome(auth.refresh, session["refresh_token"]), range(10)))
    # One token spent ten times at once: at most one new token, and the session is over.
    assert results.count("ok") <= 1
    assert results.count("refresh_token_reused") >= 9 - results.count("invalid_refresh_token")
    from bson import ObjectId

    doc = db.get_db().sessions.find_one({"_id": ObjectId(session["refresh_token"].split(".")[0])})
    assert doc["revoked_at"] is not None and doc["revoked_reason"] == "refresh_token_reused"
    issued = db.get_db().refresh_tokens.count_documents({"session_id": doc["_id"], "spent_at": None})
    assert issued <= 1


def test_parallel_resets_with_one_link_apply_once(api, monkeypatch):
    api.signup(email="owner@example.com")
    sent = []
    monkeypatch.setattr(auth.mailer, "send", lambda email: sent.append(email) or "id")
    monkeypatch.setattr(auth, "RESET_FLOOR_SECONDS", 0.0)
    auth._send_reset("owner@example.com")
    token = sent[0].text.split("#reset=")[1].split()[0]
    choices = [f"violet teapot harbour {i}" for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(
                lambda p: outcome(auth.reset_password, PasswordResetIn(token=token, new_password=p)), choices
            )
        )
    assert results.count("ok") == 1 and results.count("invalid_reset_token") == 5
    winner = choices[results.index("ok")]
    assert auth.login(LoginIn(email="owner@example.com", password=winner), "10.0.0.2")["token"]


def test_logout_racing_renewals_leaves_no_token_for_the_ended_session(api, monkeypatch):
    """Logout while eight callers keep renewing the session's access token through
    PATCH /auth/me: every token handed out was made before the logout returned, and
    afterwards none of them (nor the first) renews again."""
    import threading
    import time

    from bson import ObjectId

    from chalicelib.accounts.schemas import SellerPatch

    api.signup(email="owner@example.com")
    session = auth.login(LoginIn(email="owner@example.com", password=PASSWORD), "10.0.0.1")
    # When this thread last made a token (two made in one second are the same text).
    made = threading.local()
    real_issue = auth.issue_token

    def timed_issue(*args, **kwargs):
        made.at = time.monotonic()
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(auth, "issue_token", timed_issue)
    ended = {}

    def logout():
        auth.logout(session["refresh_token"])
        ended["at"] = time.monotonic()
        return "logged out"

    def renew():
        token, got = session["token"], []
        for _ in range(4):
            try:
                out = auth.update_me(auth.authenticate(f"Bearer {token}"), SellerPatch(shop_name="Renamed"))
            except DomainError as exc:
                got.append(exc.code)
                continue
            token = out["token"]
            got.append((token, made.at))
        return got

    results = at_once([logout] + [renew] * 8)
    assert results[0] == "logged out"
    handed_out = [t for got in results[1:] for t in got if isinstance(t, tuple)]
    assert {t for got in results[1:] for t in got if not isinstance(t, tuple)} <= {"invalid_refresh_token"}
    assert all(at < ended["at"] for _, at in handed_out), "a token was made after the logout"
    doc = db.get_db().sessions.find_one({"_id": ObjectId(session["refresh_token"].split(".")[0])})
    assert doc["revoked_reason"] == "logout"
    for token in [session["token"], *(t for t, _ in handed_out)]:
        with pytest.raises(DomainError) as refused:
            auth.update_me(auth.authenticate(f"Bearer {token}"), SellerPatch(shop_name="Again"))
        assert refused.value.code == "invalid_refresh_token"
    assert db.get_db().sellers.find_one({"email_lower": "owner@example.com"})["shop_name"] != "Again"
