"""Operator commands: `python -m chalicelib.manage init-db`."""

from __future__ import annotations

import argparse
import sys

from .db import ensure_indexes, get_db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create every index (idempotent; run once per database)")
    args = parser.parse_args(argv)
    if args.command == "init-db":
        db = get_db()
        notes = ensure_indexes(db)
        print(f"indexes ready in database {db.name!r}")
        for note in notes:
            print(f"  skipped (server does not support it): {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
