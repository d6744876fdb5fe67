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
import statistics
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


def server_name(kind: str) -> str:
    return "FerretDB 1.24 (local default)" if kind == "ferretdb" else "mongo-java-server (MongoDB paths)"


def p50(runs: list[dict], key: str) -> float:
    """The median of `key` over the runs."""
    return statistics.median(r[key] for r in runs)


def p50_count(runs: list[dict], key: str) -> float:
    """The median number of commands of `key` (the runs' `<key>_names`)."""
    return statistics.median(len(r[f"{key}_names"]) for r in runs)


def bench_cli(name: str, run_once, describe, render, counted: tuple[str, ...] = ()) -> None:
    """The command line the API benches share (--mongo-java, --runs, --write): `run_once(api)`
    --runs times on a fresh server of its own, `describe(run)` printed after each with the
    command names of each key of `counted`, then `render(runs, kind, args)`'s table, which
    --write puts into docs/performance.md as the section `<name>_<server>`."""
    import argparse
    import collections

    ap = argparse.ArgumentParser()
    ap.add_argument("--mongo-java", action="store_true", help="mongo-java-server instead of FerretDB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    args = ap.parse_args()
    kind = "mongo-java" if args.mongo_java else "ferretdb"
    with api_on(kind, name.replace("_", "-")) as api:
        runs = []
        for _ in range(args.runs):
            runs.append(run_once(api))
            print(describe(runs[-1]), flush=True)
            for key in counted:
                print(
                    f"  {key.removesuffix('_names')}: {collections.Counter(runs[-1][key]).most_common()}",
                    flush=True,
                )
    text = render(runs, kind, args)
    print(text)
    if args.write:
        from bench.perfdoc import write_section

        write_section(f"{name}_{kind.replace('-', '_')}", text)
