"""Benchmark: reading a bank statement (issue 28, chalicelib/money/statement_file.py).

    .venv/bin/python bench/bench_statement_file.py

No database. Times `statement_file.parse` on a Big5 CSV and an .xlsx of 300 and 5,000
rows (every third a withdrawal, a preamble and a 合計 line, as tests/statement_files.py
writes them): the first .xlsx in a fresh interpreter after `import app` (openpyxl's
import included, what the first upload of a Lambda instance pays), then the median of
`--runs` in one process. Then what openpyxl adds to the package (its files with the
`.pyc` scripts/chalice_pyc.py adds, unpacked and deflated as the zip holds them) and
checks that `import app` does not load it. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc
from importlib.util import source_hash
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.money.statement_file import parse  # noqa: E402
from tests.statement_files import statement_csv, statement_xlsx  # noqa: E402


def rows(n: int) -> list[dict]:
    out = []
    for i in range(n):
        day = f"115/12/{i % 28 + 1:02d} 10:{i % 60:02d}:00"
        if i % 3 == 2:
            out.append({"date": day, "withdrawal": f"{100 + i:,}", "memo": "ATM提款", "balance": "9,999"})
        else:
            out.append(
                {
                    "date": day,
                    "deposit": f"{1000 + i * 7:,}",
                    "memo": f"跨行轉入 王小明{i}",
                    "account": f"822-****{10000 + i:05d}",
                    "balance": "9,999",
                }
            )
    return out


def median_ms(data: bytes, runs: int) -> tuple[float, int]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        kept = len(parse(data).rows)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), kept


FIRST_XLSX = """
import sys, time
sys.path.insert(0, sys.argv[1])
import app
from chalicelib.money.statement_file import parse
data = open(sys.argv[2], "rb").read()
start = time.perf_counter()
parse(data)
print((time.perf_counter() - start) * 1000)
"""


def first_xlsx_ms(data: bytes, runs: int) -> float:
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
        f.write(data)
        f.flush()
        out = [
            float(
                subprocess.run(
                    [sys.executable, "-c", FIRST_XLSX, str(ROOT), f.name],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for _ in range(runs)
        ]
    return statistics.median(out)


def package_size() -> tuple[int, int]:
    """(installed bytes, deflated bytes) of openpyxl and et_xmlfile as the package ships
    them: the sources and, as scripts/chalice_pyc.py adds, a .pyc of each module."""
    import et_xmlfile
    import openpyxl

    raw, out = 0, io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for module in (openpyxl, et_xmlfile):
            base = Path(module.__file__).parent
            for f in sorted(base.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    data = f.read_bytes()
                    files = [(f.relative_to(base.parent).as_posix(), data)]
                    if f.suffix == ".py":
                        code = compile(data, str(f), "exec")
                        files.append(
                            (
                                files[0][0] + "c",
                                bytes(_code_to_hash_pyc(code, source_hash(data), checked=False)),
                            )
                        )
                    for name, blob in files:
                        raw += len(blob)
                        z.writestr(name, blob)
    return raw, len(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import app, json, sys; print(json.dumps([m for m in sys.modules if m.startswith('openpyxl')]))",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(loaded) == [], loaded
    print(f"`import app` loads no openpyxl module: checked ({sys.version.split()[0]})\n")
    print("| file | bytes | incoming rows | parse (median ms) |")
    print("|---|---:|---:|---:|")
    for n in (300, 5_000):
        for name, data in (
            (f"Big5 CSV, {n:,} rows", statement_csv(rows(n))),
            (f".xlsx, {n:,} rows", statement_xlsx(rows(n))),
        ):
            ms, kept = median_ms(data, args.runs)
            print(f"| {name} | {len(data):,} | {kept:,} | {ms:.1f} |")
        if n == 300:
            first = first_xlsx_ms(statement_xlsx(rows(n)), args.runs)
            print(
                f"| .xlsx, 300 rows, first in a fresh process (openpyxl's import included) | | | {first:.1f} |"
            )
    raw, zipped = package_size()
    print(
        f"\nopenpyxl 3.1.5 + et-xmlfile 2.0.0: {raw / 1e6:.2f} MB unpacked with their .pyc, {zipped / 1e6:.2f} MB deflated in the package"
    )


if __name__ == "__main__":
    main()
