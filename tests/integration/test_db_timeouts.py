"""A database that accepts and never answers: the request ends as our 503, well inside
the Lambda timeout (15 s), not as Lambda killing the function (API Gateway's 502).

The server below speaks just enough of the MongoDB wire protocol to pass pymongo's
handshake (hello), so the client sees a healthy standalone server; every other command
(the route's find, a ping) is read and never answered: a hung read, not an unreachable host.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import struct
import threading
import time
from pathlib import Path

import bson
import jwt
import pytest

from chalicelib.platform import config, db

ROOT = Path(__file__).resolve().parents[2]
OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
HANDSHAKE = {"hello", "ismaster", "isMaster"}


def _hello(request_id: int) -> dict:
    return {
        "ismaster": True,
        "isWritablePrimary": True,
        "helloOk": True,
        "maxBsonObjectSize": 16 * 1024 * 1024,
        "maxMessageSizeBytes": 48_000_000,
        "maxWriteBatchSize": 100_000,
        "localTime": dt.datetime.now(dt.UTC),
        "logicalSessionTimeoutMinutes": 30,
        "connectionId": request_id,
        "minWireVersion": 0,
        "maxWireVersion": 21,
        "readOnly": False,
        "ok": 1.0,
    }


def _recv(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError
        data += chunk
    return data


class SilentServer:
    """Accepts connections, answers the handshake, swallows every other command."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.swallowed: list[str] = []
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        try:
            while True:
                length, request_id, _, opcode = struct.unpack("<iiii", _recv(conn, 16))
                body = _recv(conn, length - 16)
                if opcode == OP_QUERY:  # legacy handshake: flags, cstring name, skip, n, query
                    name_end = body.index(b"\0", 4)
                    cmd = bson.decode(
                        body[name_end + 9 :][: struct.unpack("<i", body[name_end + 9 :][:4])[0]]
                    )
                else:  # OP_MSG: flags, then section kind 0 holds the command
                    doc = body[5:]
                    cmd = bson.decode(doc[: struct.unpack("<i", doc[:4])[0]])
                name = next(iter(cmd))
                if name not in HANDSHAKE:
                    self.swallowed.append(name)
                    continue  # read, never answered
                reply = bson.encode(_hello(request_id))
                if opcode == OP_QUERY:
                    payload = struct.pack("<iqii", 0, 0, 0, 1) + reply
                    conn.sendall(struct.pack("<iiii", 16 + len(payload), 0, request_id, OP_REPLY) + payload)
                else:
                    payload = struct.pack("<IB", 0, 0) + reply
                    conn.sendall(struct.pack("<iiii", 16 + len(payload), 0, request_id, OP_MSG) + payload)
        except (ConnectionError, OSError):
            conn.close()

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def silent_database(monkeypatch):
    server = SilentServer()
    monkeypatch.setenv("MONGO_URI", f"mongodb://127.0.0.1:{server.port}/?directConnection=true")
    monkeypatch.setenv("MONGO_DB", "never_answers")
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "1000")
    monkeypatch.setenv("MONGO_OPERATION_TIMEOUT_MS", "1500")
    db.reset_client()
    config.reset_settings()
    yield server
    db.reset_client()
    config.reset_settings()
    server.close()


def test_a_hung_read_is_503_within_the_operation_timeout(silent_database):
    from chalice.test import Client

    from app import app

    secret = config.get_settings().jwt_secret
    now = int(time.time())
    token = jwt.encode({"sub": str(bson.ObjectId()), "iat": now, "exp": now + 600}, secret, algorithm="HS256")
    with Client(app, stage_name="local") as client:
        started = time.monotonic()
        r = client.http.get("/customers", headers={"Authorization": f"Bearer {token}"})
        elapsed = time.monotonic() - started
        assert r.status_code == 503, r.body
        assert json.loads(r.body)["error"]["code"] == "database_unavailable"
        assert r.headers["Retry-After"] == "5"
        # The handshake passed and the query itself hung: this is the socket path.
        assert "find" in silent_database.swallowed or "aggregate" in silent_database.swallowed
        # One operation budget (1.5 s) with retries inside it, not a socket timeout per try.
        assert 1.0 < elapsed < 4.0, elapsed

        started = time.monotonic()
        health = client.http.get("/health")
        assert health.status_code == 503 and time.monotonic() - started < 4.0


def test_deployed_stages_keep_every_database_timeout_inside_the_lambda_timeout():
    """What the stages deploy: the whole-operation budget, server selection and connect
    each leave at least a third of the Lambda timeout for the 503 and the rest of the request."""
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    for name in ("dev", "prod"):
        stage = stages[name]
        env = stage["environment_variables"]
        budget_ms = stage["lambda_timeout"] * 1000 * 2 // 3
        operation = int(env["MONGO_OPERATION_TIMEOUT_MS"])
        assert 0 < operation <= budget_ms, (name, operation)
        assert int(env["MONGO_TIMEOUT_MS"]) <= operation, name


def test_the_client_gets_the_operation_budget(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1/?directConnection=true")
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "5000")
    monkeypatch.setenv("MONGO_OPERATION_TIMEOUT_MS", "8000")
    config.reset_settings()
    try:
        client = db._new_client(config.get_settings())
        opts = client.options
        assert opts.timeout == 8.0  # timeoutMS: the whole operation, retries included
        assert opts.server_selection_timeout == 5.0
        assert opts.pool_options.connect_timeout == 5.0
        client.close()
    finally:
        config.reset_settings()
