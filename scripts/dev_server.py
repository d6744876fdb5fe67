"""`make dev`: `chalice local --no-autoreload`, restarted when the app's Python code changes.

Watches only app.py and the .py files of chalicelib/ (with watchfiles), so writes to the
database files in .data/, npm or pip installs and test runs never restart the API.
scripts/run-local.sh --dev starts it as: dev_server.py --host H --port P --stage local;
`make run` (no watching) as: dev_server.py --serve --host H --port P --stage local, the API
alone. Either way a connection the browser dropped is not reported (quiet_dropped_connections).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
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


def quiet_dropped_connections() -> None:
    """A browser that drops a connection (a reload, a closed tab, a cancelled fetch) makes
    http.server raise ConnectionResetError or BrokenPipeError, and chalice local's server
    printed each as a 20-line traceback; there is nothing to report, as in site_server.py."""
    from chalice import local

    report = local.ThreadedHTTPServer.handle_error

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        report(self, request, client_address)

    local.ThreadedHTTPServer.handle_error = handle_error


def serve(args: list[str]) -> int:
    """The API itself; stop_api() ends it with SIGINT, quietly (no "Aborted!")."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    from chalice.cli import main as chalice

    quiet_dropped_connections()

    sys.argv = ["chalice", "local", "--no-autoreload", *args]
    return chalice()


def start_api(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", *args])  # noqa: S603


def stop_api(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        return serve(sys.argv[2:])
    # Ctrl-C (the whole group gets SIGINT) and run-local.sh's SIGTERM only end the watch;
    # the API is stopped once, below, whichever comes first or twice.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # Not recursive from the project root (that would watch .venv/ and node_modules/): the
    # root for app.py, plus every folder of chalicelib/.
    folders = [ROOT, LIB, *(d for d in LIB.rglob("*") if d.is_dir() and d.name != "__pycache__")]
    api = start_api(sys.argv[1:])
    try:
        for changes in watchfiles.watch(
            *folders, watch_filter=is_app_code, stop_event=stop, recursive=False, raise_interrupt=False
        ):
            say_what_changed(changes)
            stop_api(api)
            api = start_api(sys.argv[1:])
    finally:
        stop_api(api)
    return 0


if __name__ == "__main__":
    sys.exit(main())
