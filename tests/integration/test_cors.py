"""CORS: every route answers the browser's preflight, and error responses carry
Access-Control-Allow-Origin too (otherwise the browser hides the error body from the page)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.config import Config
from chalice.local import LocalGateway

from chalicelib.platform import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway(backend):
    """Chalice's local API Gateway emulation (chalice.test.Client crashes on preflight's empty body)."""
    from app import app

    return LocalGateway(app, Config())


def sample_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", path)


def all_routes():
    from app import ROUTES

    return [(r.path, r.method) for r in ROUTES]


def test_every_route_answers_preflight(gateway):
    routes = all_routes()
    assert len(routes) >= 15
    for path, method in routes:
        resp = gateway.handle_request(
            "OPTIONS",
            sample_path(path),
            {"origin": "https://shop.example.test", "access-control-request-method": method},
            b"",
        )
        headers = resp["headers"]
        assert resp["statusCode"] == 200, (path, method)
        assert headers["Access-Control-Allow-Origin"] == os.environ.get("CORS_ORIGIN", "*")
        assert method in headers["Access-Control-Allow-Methods"].split(","), (path, method)
        allowed = {h.lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key"} <= allowed


def test_error_responses_carry_cors_headers(api, token):
    origin = {"Origin": "https://shop.example.test"}
    cases = [
        api.get("/customers", headers=origin),  # 401 no token
        api.get("/customers/not-an-id", token=token, headers=origin),  # 404
        api.post("/customers", {"name": "A"}, token=token, headers=origin),  # 400 validation
        api.post("/auth/login", {"email": "nobody@example.com", "password": "x" * 12}, headers=origin),  # 401
    ]
    assert [r.status for r in cases] == [401, 404, 400, 401]
    for r in cases:
        assert r.headers.get("access-control-allow-origin") == os.environ.get("CORS_ORIGIN", "*"), r
        assert r.json["error"]["code"]
    ok = api.get("/customers", token=token, headers=origin)
    assert ok.status == 200
    assert "access-control-allow-origin" in ok.headers
    # The page reads these from fetch() responses (CSV file name, export paging).
    exposed = {h.strip().lower() for h in ok.headers["access-control-expose-headers"].split(",")}
    assert {"content-disposition", "x-next-cursor", "retry-after"} <= exposed


def test_answers_carry_the_apps_time_only_when_asked(api, token, monkeypatch):
    """Issue 27: with SERVER_TIMING on (the bench's API), every answer, errors too, says the
    app's own time (Server-Timing), and the page's origin may read it (Timing-Allow-Origin):
    bench/bench_frontend.py splits a list's time in the page into the server's and the rest.
    Off by default: an exact time would tell a known email's login from an unknown one."""
    assert "server-timing" not in api.get("/orders?limit=5", token=token).headers
    monkeypatch.setenv("SERVER_TIMING", "1")
    config.reset_settings()
    cases = [
        api.get("/orders?limit=5", token=token),
        api.get("/orders?limit=0", token=token),
        api.get("/orders"),
    ]
    assert [r.status for r in cases] == [200, 400, 401]
    monkeypatch.delenv("SERVER_TIMING")
    config.reset_settings()  # the next tests' settings without it
    for r in cases:
        assert re.fullmatch(r"app;dur=\d+\.\d", r.headers.get("server-timing", "")), r.headers
        assert r.headers["timing-allow-origin"] == os.environ.get("CORS_ORIGIN", "*")


def test_cors_origin_is_limited_by_configuration(tmp_path):
    """A fresh process with CORS_ORIGIN set answers with exactly that origin, never '*'."""
    script = """
import json
from chalice.config import Config
from chalice.local import LocalGateway
from app import app
g = LocalGateway(app, Config())
pre = g.handle_request("OPTIONS", "/orders", {"origin": "https://shop.example.test",
                       "access-control-request-method": "POST"}, b"")
err = g.handle_request("GET", "/orders", {"origin": "https://shop.example.test"}, b"")
print(json.dumps([pre["statusCode"], pre["headers"], err["statusCode"], err["headers"]]))
"""
    env = {
        **os.environ,
        "CORS_ORIGIN": "https://shop.example.test",
        "MONGO_URI": "mongomock://",
        "JWT_SECRET": "x" * 40,
        "SERVER_TIMING": "1",  # the bench's API: its Timing-Allow-Origin is that origin too
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    pre_status, pre_headers, err_status, err_headers = json.loads(out.stdout.strip().splitlines()[-1])
    assert pre_status == 200
    assert pre_headers["Access-Control-Allow-Origin"] == "https://shop.example.test"
    assert err_status == 401
    assert err_headers["Access-Control-Allow-Origin"] == "https://shop.example.test"
    assert err_headers["Timing-Allow-Origin"] == "https://shop.example.test"  # never '*' either
