"""Cold-start import time of the Lambda package itself, as Lambda runs it.

`python bench/package_import.py [dist/deployment.zip]` (also part of `make bench`).

The zip is unzipped into a fresh folder, made read-only (Lambda's /var/task is), and
`import app` is timed in new interpreters that see only that folder and the standard
library (`-I -S -B`: no site-packages, no working tree, no bytecode written), twice:
as shipped (with the `__pycache__/*.pyc` of scripts/chalice_pyc.py) and with every
`.pyc` removed (what Chalice alone ships). The working tree's warm `__pycache__` plays
no part.

The package holds Linux arm64 builds of the compiled extensions (pydantic-core,
pymongo's and bson's C modules); on another machine those are replaced by the same
files from this venv (the same pinned versions), which is the only change made.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
CHILD = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); "
    "c = time.process_time(); w = time.perf_counter(); import app; "
    "print(time.perf_counter() - w, time.process_time() - c)"
)


def _host_extensions(folder: Path) -> list[str]:
    """Swap foreign-architecture extension modules for this venv's builds of them."""
    machine = platform.machine()
    site = Path(sysconfig.get_paths()["purelib"])
    swapped = []
    for so in folder.rglob("*.so"):
        if f"-{machine}-linux-gnu" in so.name or "-linux-gnu" not in so.name:
            continue
        stem = so.name.split(".cpython-")[0]
        rel = so.parent.relative_to(folder)
        host = sorted((site / rel).glob(f"{stem}.cpython-*-{machine}-linux-gnu.so"))
        if host:
            so.unlink()
            shutil.copy2(host[0], folder / rel / host[0].name)
            swapped.append(str(rel / host[0].name))
    return swapped


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _time_imports(folder: Path, runs: int) -> dict:
    walls, cpus = [], []
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", CHILD, str(folder)],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        wall, cpu = (float(x) for x in out.stdout.split())
        walls.append(wall * 1000)
        cpus.append(cpu * 1000)
    return {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus), "runs": runs}


def measure(zip_path: Path, runs: int = RUNS) -> dict:
    """{'with_pyc': {...}, 'without_pyc': {...}, 'pycs': n, 'swapped': [...], 'zip_mb': x}."""
    result: dict = {"zip_mb": zip_path.stat().st_size / 1e6}
    with tempfile.TemporaryDirectory(prefix="lambda-task-") as tmp:
        for variant in ("without_pyc", "with_pyc"):
            folder = Path(tmp) / variant
            with zipfile.ZipFile(zip_path) as zf:
                zf.extractall(folder)
            pycs = list(folder.rglob("*.pyc"))
            if variant == "without_pyc":
                for pyc in pycs:
                    pyc.unlink()
            else:
                result["pycs"] = len(pycs)
            result["swapped"] = _host_extensions(folder)
            _read_only(folder)
            result[variant] = _time_imports(folder, runs)
        for path in Path(tmp).rglob("*"):  # let TemporaryDirectory delete it
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return result


def render(r: dict) -> str:
    return (
        f"`import app` from the unzipped package in a fresh read-only folder (bench/package_import.py, "
        f"median of {r['with_pyc']['runs']} fresh interpreters, standard library and package only): "
        f"without `.pyc` {r['without_pyc']['wall_ms']:.0f} ms wall / {r['without_pyc']['cpu_ms']:.0f} ms CPU, "
        f"with the {r['pycs']} shipped `.pyc` {r['with_pyc']['wall_ms']:.0f} ms wall / "
        f"{r['with_pyc']['cpu_ms']:.0f} ms CPU."
        + (
            " The package's arm64 extension modules were replaced by this machine's builds of the same versions."
            if r["swapped"]
            else ""
        )
    )


if __name__ == "__main__":
    zip_arg = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "deployment.zip"
    if not zip_arg.exists():
        sys.exit(f"{zip_arg} not found: run `make package STAGE=prod` first")
    res = measure(zip_arg)
    print(render(res))
    print(res)
