"""How long `make run` takes on a fresh clone until the API and the pages answer.

    bench/make_run_fresh.py [--commit REV] [--api-port 8205 --site-port 8285 --db-port 27205]

Clones this repository (REV, default HEAD) into a new temporary folder, runs `make run` there
on the given ports with a new DATA_DIR, prints each output line with the seconds since the
start, and stops the stack once GET /health and /index.html both answer. Reports the time
to ready, split at the start of scripts/run-local.sh (set-up before it, the stack after), and
the CPU time of everything `make run` ran (PostgreSQL itself, which pg_ctl detaches, not
counted). Machine-wide caches stay as they are (pip's, npm's, Go's build cache): say which
were warm with the number (docs/performance.md, "make run on a fresh clone").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback)
            resp.read()
        return True
    except OSError:
        return False


def in_session(sid: int, needle: bytes) -> bool:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if needle in (proc / "cmdline").read_bytes() and os.getsid(int(proc.name)) == sid:
                    return True
            except OSError:
                pass
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--api-port", type=int, default=8205)
    parser.add_argument("--site-port", type=int, default=8285)
    parser.add_argument("--db-port", type=int, default=27205)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="make-run-fresh-"))
    clone, data = work / "clone", work / "data"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", args.commit], check=True)
    api = f"http://127.0.0.1:{args.api_port}"
    site = f"http://127.0.0.1:{args.site_port}"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    started = time.time()
    proc = subprocess.Popen(
        [
            "make",
            "run",
            f"API_PORT={args.api_port}",
            f"SITE_PORT={args.site_port}",
            f"DB_PORT={args.db_port}",
            f"DATA_DIR={data}",
        ],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def echo() -> None:
        for line in proc.stdout:
            print(f"{time.time() - started:7.1f}  {line.decode(errors='replace')}", end="", flush=True)

    threading.Thread(target=echo, daemon=True).start()
    ready = set_up = None
    while time.time() - started < args.timeout and proc.poll() is None:
        if set_up is None and in_session(proc.pid, b"run-local.sh"):
            set_up = time.time() - started
        if answers(api + "/health") and answers(site + "/index.html"):
            ready = time.time() - started
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(60)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(work, ignore_errors=True)
    if ready is None or set_up is None:
        print(f"not ready within {args.timeout:.0f} s", file=sys.stderr)
        return 1
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"ready in {ready:.1f} s (set-up {set_up:.1f} s, scripts/run-local.sh {ready - set_up:.1f} s); "
        f"CPU {used.ru_utime + used.ru_stime:.1f} s; load average now {' '.join(load)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
