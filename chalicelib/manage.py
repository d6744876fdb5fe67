"""Operator commands: `python -m chalicelib.manage init-db`, `check`, ..."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from chalicelib.platform.db import ensure_indexes, get_db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "init-db",
        help="create every index, give legacy remitted orders their payment, finish half-applied "
        "payments, give old form links the payment instructions (idempotent; run after every deploy)",
    )
    sub.add_parser("repair-payments", help="finish payments a crash left half-applied")
    sub.add_parser(
        "replay-events",
        help="run again the event handlers that gave up (a copy of a buyer's or shop's name left "
        "stale; docs/architecture.md); each success is forgotten (exit 1 when some still fail)",
    )
    sub.add_parser(
        "check",
        help="read every stored order, customer, item, payment and parcel through the API's output "
        "models; report each one that cannot be read (exit 1 when any)",
    )
    schedule = sub.add_parser(
        "schedule",
        help="what the scheduled Lambda does (close due order forms, their minimum rule, reminders), now and "
        "then every --every seconds until Ctrl-C or SIGTERM (`make run` runs it)",
    )
    schedule.add_argument("--every", type=float, default=60.0, help="seconds between runs (default 60)")
    schedule.add_argument("--once", action="store_true", help="run once and exit")
    create = sub.add_parser("create-seller", help="add a seller account even when ALLOW_SIGNUP is false")
    create.add_argument("--email", required=True)
    create.add_argument("--shop-name", required=True)
    create.add_argument(
        "--password-env",
        default="SELLER_PASSWORD",
        help="environment variable holding the password (asked for when unset)",
    )
    args = parser.parse_args(argv)
    if args.command == "create-seller":
        return _create_seller(args)
    if args.command == "init-db":
        return _init_db()
    if args.command == "check":
        return _check()
    if args.command == "replay-events":
        from chalicelib.platform import bus

        done, left = bus.replay()
        print(f"event handlers: {done} run again, {left} still failing")
        return 1 if left else 0
    if args.command == "schedule":
        return _schedule(args.every, args.once)
    if args.command == "repair-payments":
        from chalicelib.money import payments

        print(f"payments finished for {payments.repair()} buyer(s)")
        return 0
    return 0


def _schedule(every: float, once: bool) -> int:
    """The scheduled handler on a timer: each run is one unit of work, as the Lambda's
    (platform.web.every); a failed run is logged and the next one tries again."""
    import logging
    import signal
    import threading

    from chalicelib.platform import bus
    from chalicelib.sales import closing

    logging.basicConfig(level=logging.INFO, format="schedule: %(message)s")
    stop = threading.Event()
    # SIGTERM: `make run`'s cleanup. SIGINT keeps what it was: under `make run` a background
    # job ignores it (the script's trap stops everyone), in a terminal it is KeyboardInterrupt.
    before = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while True:
            try:
                with bus.collecting():
                    done = closing.run()
                if any(done.values()):
                    print(f"schedule: {done}", flush=True)
            except Exception:  # the database away for a while: the next run tries again
                logging.exception("scheduled run failed")
            if once or stop.wait(every):
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, before)


def _init_db() -> int:
    db = get_db()
    from chalicelib.buyers import customers

    if changed := customers.migrate_contacts():  # before the unique index on email_key
        print(f"  customers: {changed} given their email key or an E.164 phone")
    notes = ensure_indexes(db)
    # FerretDB 1.24 answers every TTL index with "expireAfterSeconds is not implemented":
    # expected, harmless, and said once instead of once per collection.
    ttl = sorted({note.split(".", 1)[0] for note in notes if "expireAfterSeconds" in note})
    other = [note for note in notes if "expireAfterSeconds" not in note]
    sellers = db.sellers.estimated_document_count()
    orders = db.orders.estimated_document_count()
    print(f"database {db.name!r}: indexes ready; {sellers} seller(s), {orders} order(s)")
    if ttl:
        print(
            "  Local FerretDB has no TTL indexes: old rows of "
            + ", ".join(ttl)
            + " are kept and ignored by time filters; on MongoDB Atlas they expire."
        )
    for note in other:
        print(f"  index skipped (this server does not support it): {note}")
    from chalicelib.money import payments

    migrated = payments.migrate_remitted()
    repaired = payments.repair()
    if migrated or repaired:
        print(f"  payments: {migrated} remitted order(s) given their payment, {repaired} buyer(s) repaired")
    from chalicelib.tracking import tracking

    if filled := tracking.backfill_payment_instructions():
        print(f"  tracking links: {filled} given the shop's payment instructions")
    return 0


def unreadable() -> Iterator[tuple[str, object, str, str]]:
    """(collection, _id, field, message) for each stored document the API could not
    show: every list, export and edit of it would answer 500."""
    from pydantic import ValidationError

    from chalicelib.buyers import customers
    from chalicelib.catalog import items
    from chalicelib.money import payments
    from chalicelib.sales import orders
    from chalicelib.shipping import parcels

    readers = {
        "orders": orders.to_out,
        "customers": customers.to_out,
        "items": items.to_out,
        "payments": payments.to_out,
        "parcels": parcels.to_out,
    }
    db = get_db()
    for name, to_out in readers.items():
        for doc in db[name].find({}).sort("_id", 1):
            try:
                to_out(doc)
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or "-"
                    yield name, doc.get("_id"), field, err["msg"]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                field = exc.args[0] if isinstance(exc, KeyError) else "-"
                yield name, doc.get("_id"), str(field), f"{type(exc).__name__}: {exc}"


def _check() -> int:
    bad = 0
    for collection, doc_id, field, message in unreadable():
        bad += 1
        print(f"{collection} {doc_id} {field}: {message}")
    print(f"{bad} unreadable document field(s)" if bad else "every stored document reads")
    return 1 if bad else 0


def _create_seller(args) -> int:
    import getpass
    import os

    from chalicelib.accounts.auth import create_seller
    from chalicelib.accounts.schemas import SignupIn
    from chalicelib.platform.errors import DomainError
    from chalicelib.platform.payload import validate

    password = os.environ.get(args.password_env) or getpass.getpass("Password (10+ characters): ")
    try:
        data = validate(SignupIn, {"email": args.email, "password": password, "shop_name": args.shop_name})
        seller = create_seller(data)["seller"]
    except DomainError as exc:
        details = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        print(f"error: {exc.message}{' (' + details + ')' if details else ''}", file=sys.stderr)
        return 1
    print(f"seller {seller['email']} created: shop {seller['shop_name']!r} ({seller['shop_slug']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
