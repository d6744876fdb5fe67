"""What the API benches share: a server of their own (FerretDB on a PostgreSQL cluster
under .cache/<name>/, with the local GIN indexes `make run` creates, or mongo-java-server
in memory), the app pointed at it, and the routes called through chalice.test's gateway
as the page calls them; a CommandListener naming every command sent.

A bench imports this module first: the listener must be registered before any pymongo
client exists, and the environment set before chalicelib reads its settings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from pymongo import monitoring

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests", ROOT / "tests" / "integration"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

os.environ.setdefault("JWT_SECRET", "bench-" + uuid.uuid4().hex)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("PUBLIC_SITE_URL", "https://shop.example.test")
# A bench's own checks may read far more than a request would: not the API's 15 s limit.
os.environ.setdefault("MONGO_TIMEOUT_MS", "600000")

QUIET = ("endSessions", "hello", "isMaster", "ismaster", "buildInfo")


class CommandNames(monitoring.CommandListener):
    """`command:collection` of every command sent (the driver's own handshakes left out)."""

    def __init__(self):
        self.names: list[str] = []

    def started(self, event):
        if event.command_name not in QUIET:
            self.names.append(f"{event.command_name}:{event.command.get(event.command_name)}")

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


COMMANDS = CommandNames()
monitoring.register(COMMANDS)


def start_server(kind: str, name: str):
    """A started server of `kind` ("ferretdb" or "mongo-java"), its files named `name`."""
    if kind == "mongo-java":
        from conftest import MongoJavaServer

        server = MongoJavaServer(ROOT / f".cache/{name}-mongo-java.log")
        server.start()
        return server
    from conftest import FerretDB

    data = ROOT / f".cache/{name}/data"
    shutil.rmtree(data.parent, ignore_errors=True)
    data.mkdir(parents=True)
    server = FerretDB(data)
    server.start()
    return server


@contextlib.contextmanager
def api_on(kind: str, name: str) -> Iterator[object]:
    """The API on a fresh database of a new server of `kind`, as tests' `Api`; the
    server is stopped afterwards."""
    server = start_server(kind, name)
    os.environ.update(MONGO_URI=server.uri, MONGO_DB="bench_" + uuid.uuid4().hex[:8])
    from chalicelib.platform import config, db

    config.reset_settings()
    db.reset_client()
    try:
        db.ensure_indexes()
        if kind == "ferretdb":
            server.indexes()  # the local GIN indexes, as `make run` creates them
        from conftest import Api, local_client

        with local_client() as client:
            yield Api(client)
    finally:
        server.stop()
