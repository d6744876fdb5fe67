"""Writes one benchmark's section of docs/performance.md, between markers of its own,
leaving the other benchmarks' sections as they are."""

from __future__ import annotations

from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(name: str, text: str) -> Path:
    current = PATH.read_text(encoding="utf-8") if PATH.exists() else "# Performance\n"
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in current and end in current:
        current = current[: current.index(begin)] + block + current[current.index(end) + len(end) :]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    PATH.write_text(current, encoding="utf-8")
    return PATH
