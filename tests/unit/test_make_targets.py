"""`make run` installs what the app needs and nothing the tests need; `make test` installs both.

Read from `make -n` (what make would run, nothing run), so the Makefile's own rules are what
is checked: the mongo-java-server test lane (a Maven build, ~70 s on a fresh machine) and the
test tools (pytest, moto, playwright, ...) are `make test`'s alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def dry_run(target: str, tmp_path: Path) -> str:
    """`make -n <target>` on a copy of the Makefile and requirements in an empty folder, as on
    a fresh clone: no .venv, so every set-up step is listed."""
    for name in ("Makefile", "requirements.txt", "requirements-run.txt", "requirements-dev.txt"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, tmp_path / name)
    # Not the jobserver of a `make test` that runs this test.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "-n", target], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_make_run_builds_no_test_only_tool(tmp_path):
    steps = dry_run("run", tmp_path)
    assert "scripts/run-local.sh" in steps
    # What `make run` needs, on a fresh clone.
    for needed in (
        "-m venv --without-pip .venv",
        "scripts/ensure-postgresql.sh",
        "scripts/db.sh build",
        "scripts/build-site.sh --deps",
    ):
        assert needed in steps, steps
    assert "-r requirements-run.txt" in steps, steps
    # Not the test lane's Maven build, nor the test tools.
    assert "mongo-java" not in steps, steps
    assert "requirements-dev.txt" not in steps, steps
    assert "ensure-browser" not in steps, steps


def test_make_dev_builds_no_test_only_tool(tmp_path):
    steps = dry_run("dev", tmp_path)
    assert "scripts/run-local.sh --dev" in steps
    assert "mongo-java" not in steps and "requirements-dev.txt" not in steps, steps


def test_make_test_still_installs_everything_it_needs(tmp_path):
    steps = dry_run("test", tmp_path)
    for needed in (
        "-m venv --without-pip .venv",
        "-r requirements-dev.txt",
        "scripts/ensure-postgresql.sh",
        "scripts/db.sh build",
        "scripts/build-site.sh --deps",
        "scripts/mongo-java.sh build",
        "scripts/ensure-browser.sh",
    ):
        assert needed in steps, steps
    assert steps.index("scripts/mongo-java.sh build") < steps.index("-m pytest"), steps


def test_the_test_requirements_include_the_run_requirements():
    """requirements-dev.txt is a superset: `make test`'s venv also serves `make run`."""
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    run = (ROOT / "requirements-run.txt").read_text().splitlines()
    assert "-r requirements-run.txt" in dev
    assert "-r requirements.txt" in run
    assert any(line.startswith("chalice==") for line in run)
    assert any(line.startswith("watchfiles==") for line in run)


def test_the_local_api_server_drops_quietly_and_reports_the_rest(monkeypatch, capsys):
    """`make run` and `make dev` serve the API through scripts/dev_server.py's `serve`: a
    connection the browser dropped is not a traceback, any other error still is."""
    import importlib.util

    from chalice import local

    spec = importlib.util.spec_from_file_location("dev_server", ROOT / "scripts" / "dev_server.py")
    dev_server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev_server)
    # Undone after the test: the patch is on chalice's class.
    monkeypatch.setattr(local.ThreadedHTTPServer, "handle_error", local.ThreadedHTTPServer.handle_error)
    dev_server.quiet_dropped_connections()
    server = local.ThreadedHTTPServer.__new__(local.ThreadedHTTPServer)

    for dropped in (ConnectionResetError(104, "reset"), BrokenPipeError(32, "broken pipe")):
        try:
            raise dropped
        except OSError:
            server.handle_error(None, ("127.0.0.1", 50000))
    assert capsys.readouterr().err == ""

    try:
        raise ValueError("a real bug")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 50000))
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: a real bug" in err
