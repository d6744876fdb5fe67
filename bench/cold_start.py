"""Cold start as Lambda runs it: `import app` and then the first request, from the package.

`python bench/cold_start.py [ZIP ...]` (part of `make bench`; ZIP defaults to
dist/deployment.zip). Each zip is unzipped into a read-only folder with its shipped
`.pyc` (bench/package_import.py explains the folder and the swapped extension modules).
A fresh FerretDB gets a seller with 50 orders. Then, `--runs` times (interleaved between
the zips, so a busy moment hits all of them alike), a new interpreter that sees only the
package and the standard library (`-I -S -B`):

  1. imports `app` (timed: the Lambda init phase);
  2. answers `GET /orders` with a valid token through the Lambda handler (`app.app(event,
     context)`, an API Gateway proxy event): the first request, which connects to the
     database and builds what the import left for later;
  3. answers it `--warm` more times: a warm container's request.

Medians over the interpreters of wall and CPU (process_time) time; "first - warm" is taken
per interpreter. With one zip, the section "cold_start" of docs/performance.md is rewritten.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import package_import  # noqa: E402
from bench.perfdoc import write_section  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
def now():
    return time.perf_counter(), time.process_time()
w0, c0 = now()
import app
w1, c1 = now()
token = sys.argv[2]
event = {
    "resource": "/orders", "path": "/orders", "httpMethod": "GET",
    "headers": {"Authorization": "Bearer " + token, "Host": "api.example.test"},
    "multiValueHeaders": {"Authorization": ["Bearer " + token]},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"resourcePath": "/orders", "httpMethod": "GET", "path": "/api/orders",
                       "stage": "api", "apiId": "local", "identity": {"sourceIp": "127.0.0.1"}},
}
def call():
    w, c = now()
    r = app.app(event, None)
    w2, c2 = now()
    assert r["statusCode"] == 200, r
    assert len(json.loads(r["body"])["items"]) == 50, r["body"][:200]
    return (w2 - w) * 1000, (c2 - c) * 1000
first = call()
warm = [call() for _ in range(int(sys.argv[3]))]
print(json.dumps({
    "import": [(w1 - w0) * 1000, (c1 - c0) * 1000],
    "first": list(first),
    "warm": [sorted(x)[len(x) // 2] for x in zip(*warm)],
}))
"""


def seed(uri: str, db_name: str, secret: str) -> str:
    """A seller with one buyer, one item and 50 orders (one page); returns a token."""
    os.environ.update(MONGO_URI=uri, MONGO_DB=db_name, JWT_SECRET=secret)
    from chalice.test import Client

    from app import app
    from chalicelib.platform import db
    from tests.conftest import Api

    db.ensure_indexes()
    with Client(app, stage_name="local") as client:
        api = Api(client)
        token = api.signup(email="cold@example.com")
        t = {"token": token}
        cust = api.post("/customers", {"name": "Amy", "email": "amy@example.com"}, **t).json
        item = api.post("/items", {"item_name": "Matcha", "price": 120}, **t).json
        for _ in range(50):
            r = api.post("/orders", {"customer_id": cust["id"], "item_id": item["id"], "quantity": 1}, **t)
            assert r.status == 201, r.json
    return token


def unpack(zip_path: Path, folder: Path) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder)
    package_import._host_extensions(folder)
    package_import._read_only(folder)


def run_child(folder: Path, token: str, env: dict, warm: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", CHILD, str(folder), token, str(warm)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child failed in {folder}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def summarize(samples: list[dict]) -> dict:
    def med(key: str, i: int) -> float:
        return statistics.median(s[key][i] for s in samples)

    return {
        "runs": len(samples),
        "import_wall": med("import", 0),
        "import_cpu": med("import", 1),
        "first_wall": med("first", 0),
        "first_cpu": med("first", 1),
        "warm_wall": med("warm", 0),
        "warm_cpu": med("warm", 1),
        "extra_wall": statistics.median(s["first"][0] - s["warm"][0] for s in samples),
        "extra_cpu": statistics.median(s["first"][1] - s["warm"][1] for s in samples),
    }


def render(r: dict, warm: int) -> str:
    return "\n".join(
        [
            "## Cold start and the first request",
            "",
            f"Measured by `make bench` (bench/cold_start.py): the `prod` package, unzipped read-only "
            f"with its `.pyc`, in {r['runs']} fresh interpreters (`python -I -S -B`, standard library "
            f"and package only); `GET /orders` (one page of 50 orders, valid token) through the Lambda "
            f"handler against a local FerretDB; warm = median of the next {warm} requests in the same "
            f"interpreter. Medians in ms, wall / CPU (process_time). Targets (issue 32): import ≤ 150, "
            f"first request ≤ warm + 100.",
            "",
            "| | wall | CPU |",
            "|---|---:|---:|",
            f"| `import app` | {r['import_wall']:.0f} | {r['import_cpu']:.0f} |",
            f"| first `GET /orders` | {r['first_wall']:.0f} | {r['first_cpu']:.0f} |",
            f"| warm `GET /orders` | {r['warm_wall']:.0f} | {r['warm_cpu']:.0f} |",
            f"| first − warm (per interpreter) | {r['extra_wall']:.0f} | {r['extra_cpu']:.0f} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("zips", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm", type=int, default=15)
    parser.add_argument("--mongo-uri", help="a running server instead of a fresh FerretDB")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    zips = args.zips or [ROOT / "dist" / "deployment.zip"]
    for z in zips:
        if not z.exists():
            sys.exit(f"{z} not found: run `make package STAGE=prod` first")

    from tests.conftest import FerretDB

    secret = uuid.uuid4().hex * 2
    db_name = f"cold_{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="cold-", dir=ROOT / ".cache"))
    server = None
    if args.mongo_uri:
        uri = args.mongo_uri
    else:
        server = FerretDB(tmp / "data")
        server.start()
        uri = server.uri
    try:
        token = seed(uri, db_name, secret)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": "/nonexistent",
            "MONGO_URI": uri,
            "MONGO_DB": db_name,
            "JWT_SECRET": secret,
        }
        folders = []
        for i, z in enumerate(zips):
            folder = tmp / f"task{i}"
            unpack(z, folder)
            folders.append(folder)
        samples: list[list[dict]] = [[] for _ in zips]
        for _ in range(args.runs):
            for i, folder in enumerate(folders):
                samples[i].append(run_child(folder, token, env, args.warm))
    finally:
        if server:
            server.stop()
        for path in tmp.rglob("*"):
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        shutil.rmtree(tmp, ignore_errors=True)
    results = [summarize(s) for s in samples]
    for z, r in zip(zips, results, strict=True):
        print(z, json.dumps({k: round(v, 1) for k, v in r.items()}))
    if len(zips) == 1:
        text = render(results[0], args.warm)
        print(text)
        if not args.no_write:
            write_section("cold_start", text)


if __name__ == "__main__":
    main()
