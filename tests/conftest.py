"""Shared fixtures: a real FerretDB per test session, a fresh database per test, and an
API client that runs requests through Chalice's local gateway (routing, CORS, errors).

Every API test takes the `backend` fixture, parametrized over mongomock (fast), FerretDB
(the real MongoDB wire protocol, with the FerretDB-only locks) and mongo-java-server (the
wire protocol with MongoDB's code paths: no locks, one-aggregation reports), so no
behaviour is proven on mongomock alone. The three lanes: docs/ferretdb.md, "Test lanes".
The data a test needs comes from the factories of tests/factories.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pymongo
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("JWT_SECRET", "test-secret-" + uuid.uuid4().hex)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# Photos go to this bucket (moto's S3 in tests/integration/test_photos.py); app.py wires its
# S3 event handler to it.
os.environ.setdefault("PHOTO_BUCKET", "test-photos")
os.environ.setdefault("PUBLIC_SITE_URL", "https://shop.example.test")

from chalicelib.platform import config, db  # noqa: E402

# The process's environment, as every test must leave it: not a copy standing in for it.
ENVIRON = os.environ


@pytest.fixture(autouse=True)
def _environ_is_the_process_environment():
    """Fail the test after which `os.environ` is no longer the process's environment (a
    dict left in its place by concurrent requests through chalice.test: every setting in it
    then outlives the monkeypatch that set it, e.g. a mail sender into the next test)."""
    yield
    if os.environ is not ENVIRON:
        os.environ = ENVIRON  # the next tests start clean
        pytest.fail("os.environ was replaced by a copy during this test (see tests/conftest.local_client)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FerretDB:
    """FerretDB on its own PostgreSQL cluster (`scripts/db.sh`, as `make run` uses it): the
    cluster in `data_dir` (a unix socket there, no TCP), FerretDB on a free loopback port."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = _free_port()
        self.env = {**os.environ, "DB_DATA": str(data_dir), "DB_PORT": str(self.port)}
        self.env.pop("FERRETDB_PORT", None)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def _db_sh(self, *args: str) -> str:
        out = subprocess.run(
            [str(ROOT / "scripts/db.sh"), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if out.returncode != 0:
            raise RuntimeError(f"scripts/db.sh {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def start(self) -> None:
        self._db_sh("start")

    def stop(self) -> None:
        self._db_sh("stop")

    def indexes(self) -> None:
        """The local GIN indexes (scripts/pg-indexes.sql) on every database's tables."""
        self._db_sh("indexes")

    def sql(self, query: str) -> str:
        """One SQL statement on the cluster (a MongoDB database is a schema of `ferretdb`)."""
        return self._db_sh("psql", "-XtAq", "-v", "ON_ERROR_STOP=1", "-c", query)


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory):
    server = FerretDB(tmp_path_factory.mktemp("ferretdb") / "data")
    server.start()
    yield server
    server.stop()


class MongoJavaServer:
    """mongo-java-server 1.47.0 in memory (tools/mongo-java-server/) on a free loopback port.

    It reports wire version 13 and no `ferretdbVersion`, so the app takes its MongoDB
    paths: no lock documents, atomic conditional updates, one-aggregation reports."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        subprocess.run([str(ROOT / "scripts/mongo-java.sh"), "build"], check=True)
        log = open(self.log_path, "ab")  # noqa: SIM115
        # MONGO_JAVA_UPSTREAM=1: the library's own reply handling, to reproduce its
        # duplicate findAndModify post-images (tools/mongo-java-server/MongoJavaServer.java).
        upstream = ["--upstream-replies"] if os.environ.get("MONGO_JAVA_UPSTREAM") == "1" else []
        self.proc = subprocess.Popen(
            [
                "java",
                "-jar",
                str(ROOT / ".cache/bin/mongo-java-server.jar"),
                f"--listen-addr=127.0.0.1:{self.port}",
                *upstream,
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.time() + 30
        while True:
            try:
                pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=300).admin.command("ping")
                return
            except pymongo.errors.PyMongoError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"mongo-java-server did not start (log: {self.log_path})") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "mongo_java_wrong(reason, raises): mongo-java-server, not the app, gets this test wrong:"
        " xfail(strict=True) on the mongo-java lane only (docs/ferretdb.md, 'Test lanes')",
    )
    config.addinivalue_line(
        "markers",
        "ferretdb_wrong(reason, raises): FerretDB 1.24, not the app, gets this test wrong:"
        " xfail(strict=True) on the FerretDB lane only (docs/ferretdb.md)",
    )


def pytest_collection_modifyitems(items):
    """`@pytest.mark.mongo_java_wrong(reason=..., raises=...)` becomes a strict xfail of the
    test's `[mongo-java]` run only (`ferretdb_wrong`: of its `[ferretdb]` run); the other
    lanes still run it in full."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        for marker, lane in (("mongo_java_wrong", "mongo-java"), ("ferretdb_wrong", "ferretdb")):
            mark = item.get_closest_marker(marker)
            if mark and callspec and callspec.params.get("backend") == lane:
                item.add_marker(pytest.mark.xfail(strict=True, **mark.kwargs))


@pytest.fixture(scope="session")
def mongo_java(tmp_path_factory):
    server = MongoJavaServer(tmp_path_factory.mktemp("mongo-java") / "mongo-java-test.log")
    server.start()
    yield server
    server.stop()


class LiveApi:
    """`chalice local` in a subprocess on a real FerretDB database: the whole HTTP stack."""

    def __init__(self, mongo_uri: str, db_name: str, env: dict | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MONGO_URI": mongo_uri,
            "MONGO_DB": db_name,
            "MONGO_TIMEOUT_MS": "1000",
            # Photos as `make run` keeps them (no AWS): files under a folder of its own.
            "BLOB_DIR": tempfile.mkdtemp(prefix="live-blobs-"),
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.log = open(ROOT / ".cache" / f"chalice-local-{self.port}.log", "wb")  # noqa: SIM115

    def start(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "chalicelib.manage", "init-db"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        chalice = str(Path(sys.executable).parent / "chalice")
        self.proc = subprocess.Popen(
            [
                chalice,
                "local",
                "--no-autoreload",
                "--stage",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        import urllib.request

        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/openapi.json", timeout=1).read()  # noqa: S310
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("chalice local did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="session")
def live_api(ferretdb):
    """A running API on its own FerretDB database, shared by the tests that need HTTP."""
    server = LiveApi(ferretdb.uri, "live_" + uuid.uuid4().hex[:8])
    server.start()
    yield server
    server.stop()


def use_database(uri: str, name: str) -> None:
    os.environ["MONGO_URI"] = uri
    os.environ["MONGO_DB"] = name
    config.reset_settings()
    db.reset_client()


class _Writes(pymongo.monitoring.CommandListener):
    """Which collections of the watched database a test wrote, and whether it changed
    the database's shape (an index, a collection dropped or made, an aggregation's output).
    Registered for every client the tests make, on every thread."""

    WRITES = frozenset({"insert", "update", "delete", "findAndModify"})
    READS = frozenset(
        {"find", "aggregate", "count", "distinct", "listIndexes", "listCollections", "getMore"}
        | {"buildInfo", "dbStats", "collStats", "serverStatus", "explain", "ping", "hello", "isMaster"}
    )

    def __init__(self):
        self.database: str | None = None
        self.written: set[str] = set()
        self.reshaped = False

    def watch(self, database: str | None) -> None:
        self.database, self.written, self.reshaped = database, set(), False

    def started(self, event):
        if self.database is not None and event.command_name == "bulkWrite":
            self.reshaped = True  # a client-level bulk write (admin database): not traced here
        if self.database is None or event.database_name != self.database:
            return
        name = event.command_name
        if name in self.WRITES:
            self.written.add(event.command[name])
        elif name == "aggregate" and any(
            "$out" in stage or "$merge" in stage for stage in event.command.get("pipeline", [])
        ):
            self.reshaped = True
        elif name not in self.READS:
            self.reshaped = True  # createIndexes, drop, dropIndexes, create, collMod, ...

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


_WRITES = _Writes()
pymongo.monitoring.register(_WRITES)
# Clean, indexed databases left by earlier tests, per server: making one (ensure_indexes)
# is some 60 index commands, 0.2-0.9 s on FerretDB, and most tests write a few collections.
_CLEAN: dict[str, list[str]] = {}
_cleaners: dict[str, pymongo.MongoClient] = {}


def _server_uri(request) -> str | None:
    if request.param == "ferretdb":
        return request.getfixturevalue("ferretdb").uri
    if request.param == "mongo-java":
        return request.getfixturevalue("mongo_java").uri
    return None


@pytest.fixture(params=["mongomock", "ferretdb", "mongo-java"])
def backend(request):
    """A fresh (empty), indexed database on each backend; yields the backend's name.

    On a real server the database is an earlier test's, emptied: every collection that test
    wrote (seen by `_Writes` on the wire) had its documents deleted, and one whose shape it
    changed was dropped instead. mongomock's are made anew (nothing to save there)."""
    uri = _server_uri(request)
    pool = _CLEAN.setdefault(request.param, [])
    if uri is not None and pool:
        name = pool.pop()
        use_database(uri, name)
    else:
        name = "t_" + uuid.uuid4().hex[:12]
        use_database(uri or "mongomock://", name)
        db.ensure_indexes()
    _WRITES.watch(name if uri else None)
    yield request.param
    written, reshaped = _WRITES.written, _WRITES.reshaped
    _WRITES.watch(None)
    try:
        if uri is None:
            db.get_client().drop_database(name)
            return
        client = _cleaners.get(uri) or _cleaners.setdefault(uri, pymongo.MongoClient(uri, tz_aware=True))
        if reshaped:
            client.drop_database(name)
            return
        for collection in written:
            client[name][collection].delete_many({})
        pool.append(name)
    finally:
        db.reset_client()


SES_SENDER = "noreply@shop.example.test"


@pytest.fixture
def ses(backend, monkeypatch):
    """moto's SES with a verified sender; yields the list of sent messages."""
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    from chalicelib.platform import mailer

    monkeypatch.setenv("SES_SENDER", SES_SENDER)
    config.reset_settings()
    mailer.reset_client()
    with mock_aws():
        import boto3

        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SES_SENDER)
        yield ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    mailer.reset_client()
    config.reset_settings()


class Api:
    """JSON helper over chalice.test.Client: `api.post(path, body, token=...)`."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        if raw is None and body is not None:
            raw = json.dumps(body)
        resp = getattr(self.client.http, method.lower())(path, headers=h, body=raw or b"")
        return Response(resp)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def signup(self, email=None, shop_name="Tokyo Picks"):
        email = email or f"seller-{uuid.uuid4().hex[:8]}@example.com"
        r = self.post("/auth/signup", {"email": email, "password": "correct horse 1", "shop_name": shop_name})
        assert r.status == 201, r.json
        return r.json["token"]


class Response:
    def __init__(self, resp):
        self.status = resp.status_code
        self.headers = {k.lower(): v for k, v in resp.headers.items()}
        self.body = resp.body
        try:
            self.json = json.loads(resp.body) if resp.body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


@contextlib.contextmanager
def _environment_left_alone(environment_variables):
    # chalice.test swaps `os.environ` for a patched copy around each request and puts back
    # what it found: requests at once (the race tests) interleave, one puts back another's
    # copy, and that copy stays `os.environ` for the rest of the session.
    assert not environment_variables, environment_variables
    yield


def local_client():
    """chalice.test's client on the `local` stage, safe for requests from many threads."""
    from chalice.test import Client

    from app import app

    client = Client(app, stage_name="local")
    # The `local` stage sets no environment (dev/prod variables must not leak into tests),
    # so each request has nothing to patch.
    client.http._patched_env_vars = _environment_left_alone
    return client


@pytest.fixture
def api(backend):
    with local_client() as client:
        yield Api(client)


@pytest.fixture
def token(api):
    return api.signup()


@pytest.fixture
def other_token(api):
    """A second seller, for tenant isolation."""
    return api.signup(shop_name="Osaka Finds")


class CommandLog(pymongo.monitoring.CommandListener):
    """Names and bodies of the commands a client sends."""

    def __init__(self):
        self.names: list[str] = []
        self.bodies: list[dict] = []

    def started(self, event):
        self.names.append(event.command_name)
        self.bodies.append(event.command)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def commands(backend, api):
    """On a real server, swap in a client that records every command sent; None on
    mongomock (it speaks no wire protocol, so there is nothing to count)."""
    if backend == "mongomock":
        yield None
        return
    log = CommandLog()
    client = pymongo.MongoClient(db.get_settings().mongo_uri, tz_aware=True, event_listeners=[log])
    client.admin.command("ping")
    old, db._client = db._client, client
    log.names.clear()
    try:
        yield log
    finally:
        db._client = old
        client.close()


def at_once(calls, threads=None):
    """Run `calls` in parallel threads (released together when each has its own thread)
    and return what each returned, or the `code` of the domain error it raised: the race
    tests check the data afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.platform.errors import DomainError

    threads = threads or len(calls)
    gate = threading.Barrier(len(calls)) if threads >= len(calls) else None

    def go(call):
        if gate is not None:
            gate.wait()
        try:
            return call()
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(go, calls))
