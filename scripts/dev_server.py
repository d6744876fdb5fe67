"""`make dev`: `chalice local --no-autoreload`, restarted when the app's Python code changes.

Watches only app.py and the .py files of chalicelib/ (with watchfiles), so writes to the
database files in .data/, npm or pip installs and test runs never restart the API.
scripts/run-local.sh --dev starts it as: dev_server.py --host H --port P --stage local
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from pathlib import Path

import watchfiles

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
LIB = ROOT / "chalicelib"


def is_app_code(change: watchfiles.Change, path: str) -> bool:
    p = Path(path)
    if p.suffix != ".py" or "__pycache__" in p.parts:
        return False
    return p == APP or LIB in p.parents


def say_what_changed(changes: set[tuple[watchfiles.Change, str]]) -> None:
    names = sorted({str(Path(path).relative_to(ROOT)) for _, path in changes})
    print(f"changed: {', '.join(names)}; restarting the API", flush=True)


def serve(args: list[str]) -> int:
    """The API itself: watchfiles stops it with SIGINT, which ends it quietly."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    from chalice.cli import main as chalice

    sys.argv = ["chalice", "local", "--no-autoreload", *args]
    return chalice()


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        return serve(sys.argv[2:])
    # Started in the background by a shell, this process inherits an ignored SIGINT, and so
    # would the API: restore it so that watchfiles' SIGINT reaches the API.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # watchfiles' own notes on SIGTERM are noise here: run-local.sh says when it stops.
    logging.getLogger("watchfiles").setLevel(logging.ERROR)
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", *sys.argv[1:]]
    # Not recursive from the project root (that would watch .venv/ and node_modules/): the
    # root for app.py, plus every folder of chalicelib/.
    folders = [ROOT, *(d for d in LIB.rglob("*") if d.is_dir() and d.name != "__pycache__"), LIB]
    watchfiles.run_process(
        *folders,
        target=shlex.join(command),
        target_type="command",
        watch_filter=is_app_code,
        callback=say_what_changed,
        recursive=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
