"""Tokens, hashes, links, request validation and the response-time floor (no database)."""

import hashlib
import secrets
import time

import pytest

from chalicelib.platform import config
from chalicelib.platform.errors import NotFound, ValidationFailed
from chalicelib.platform.payload import validate
from chalicelib.tracking import tracking


def test_token_pattern_matches_what_we_issue_and_nothing_else():
    for _ in range(500):
        assert tracking.TOKEN_RE.fullmatch(secrets.token_urlsafe(tracking.TOKEN_BYTES))
    assert tracking.TOKEN_BYTES * 8 >= 128
    for bad in ("", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "/", "短" * 43):
        assert not tracking.TOKEN_RE.fullmatch(bad)


def test_hash_is_sha256_hex():
    tok = secrets.token_urlsafe(32)
    assert tracking.hash_token(tok) == hashlib.sha256(tok.encode()).hexdigest()
    assert tracking.hash_token(tok) != tracking.hash_token(tok[:-1] + ("A" if tok[-1] != "A" else "B"))


def test_link_url_uses_public_site_url(monkeypatch):
    monkeypatch.setenv("PUBLIC_SITE_URL", "https://track.example.com/")
    config.reset_settings()
    try:
        assert tracking.link_url("T0k") == "https://track.example.com/track.html#T0k"
    finally:
        config.reset_settings()


def test_malformed_token_is_404_without_touching_the_database(monkeypatch):
    def no_db():
        raise AssertionError("database used for a malformed token")

    monkeypatch.setattr(tracking, "get_db", no_db)
    for bad in ("x", "a" * 44, None, "../" * 14 + "a"):
        with pytest.raises(NotFound) as exc:
            tracking.lookup(bad)
        assert exc.value.message == "tracking link not found"


def test_link_request_model_refuses_extras_and_operators():
    ok = validate(tracking.LinkRequestIn, {"shop_slug": "tokyo-picks", "email": "A@Example.com"})
    assert ok.email.lower() == "a@example.com"
    for bad in (
        {"shop_slug": "tokyo-picks", "email": {"$ne": ""}},
        {"shop_slug": "tokyo-picks", "email": "a@example.com", "x": 1},
        {"shop_slug": "Tokyo Picks", "email": "a@example.com"},
        {"shop_slug": "tokyo-picks"},
    ):
        with pytest.raises(ValidationFailed):
            validate(tracking.LinkRequestIn, bad)


def test_every_answer_takes_at_least_the_floor(monkeypatch):
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.2)
    data = tracking.LinkRequestIn.model_validate({"shop_slug": "s", "email": "a@example.com"})

    monkeypatch.setattr(tracking, "_send_link", lambda d: False)
    started = time.monotonic()
    assert tracking.request_link(data) == tracking.ACCEPTED
    assert time.monotonic() - started >= 0.2

    def boom(d):
        raise RuntimeError("db down")

    monkeypatch.setattr(tracking, "_send_link", boom)
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        tracking.request_link(data)
    assert time.monotonic() - started >= 0.2  # errors are not faster either
