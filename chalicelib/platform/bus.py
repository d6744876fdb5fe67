"""Domain events: a domain function records what happened; the handlers that keep other
copies current (a buyer's name on orders, a shop's name on links) or send the buyer an
email run after the write, not in the middle of it (docs/architecture.md).

Platform layer: no domain imports. Events are frozen dataclasses defined next to the
domain that raises them; which handlers an event has is `HANDLERS`, event class name ->
"module:function" paths, resolved on first dispatch, so a handler module is imported
only when its event happens (cold starts import no more than before) and a lazily
imported route module still finds every handler.

- `collecting()` opens a unit of work (web.api wraps every route in one): `record`
  keeps events until it closes, then `dispatch` runs them, whether the route answered
  or raised (an event is recorded after its write: the write happened either way).
- Outside a unit of work (manage.py, scripts) `record` dispatches at once.
- Handlers run one at a time, in the order listed; an event a handler records is run
  after the current one. A handler that raises is retried up to the event's `attempts`
  (copy refreshes read the source again, so running one twice is harmless); then it is
  logged, and (unless the event says `keep = False`) kept in `event_failures` with the
  event's fields for `manage.py replay-events`. Either way the write that raised the event stays, the next handler
  runs, and the caller's answer is unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, ClassVar

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Event:
    """Base of every domain event. `attempts`: how often a failing handler runs;
    `keep`: a handler that gave up is stored for `replay` (False: logged only, for a
    handler a replay could make do its work twice)."""

    attempts: ClassVar[int] = 1
    keep: ClassVar[bool] = True


# The wiring (cosmicpython's bootstrap): event -> handlers, in the order they run. The
# package that owns a copy handles the event that makes it stale.
HANDLERS: dict[str, tuple[str, ...]] = {
    "CustomerChanged": (
        "sales.orders:customer_changed",
        "money.payments:customer_changed",
        "money.charges:customer_changed",
        "shipping.parcels:customer_changed",
        "tracking.tracking:customer_changed",
    ),
    "CustomerDeleted": ("tracking.tracking:customer_deleted",),
    "CustomersMerged": (
        "sales.orders:customers_merged",
        "money.payments:customers_merged",
        "money.charges:customers_merged",
        "shipping.parcels:customers_merged",
        "tracking.tracking:customers_merged",
    ),
    "ShopProfileChanged": (
        "tracking.tracking:shop_changed",
        "sales.forms:shop_changed",
        "catalog.batches:shop_changed",
    ),
    "ParcelShipped": ("notifications.notifications:parcel_shipped",),
    "PaymentConfirmed": ("notifications.notifications:payment_confirmed",),
    "StatementPaymentVoided": ("money.statements:payment_voided",),
    "FormOrderPlaced": ("notifications.notifications:form_order_placed",),
    "FormOrdersCancelled": ("notifications.notifications:form_orders_cancelled",),
    "FormReminderDue": ("notifications.notifications:form_reminder",),
    "ShortageCancelled": ("notifications.notifications:shortage_cancelled",),
    "StockReturned": ("sales.waitlist:stock_returned",),
    "ItemDeleted": ("catalog.photos:item_deleted",),
    "WaitlistServed": ("notifications.notifications:waitlist_served",),
    "WaitlistClosed": ("notifications.notifications:waitlist_closed",),
}

_extra: dict[str, list[Handler]] = {}  # subscribe(): tests and scripts
_resolved: dict[str, Handler] = {}
_pending: ContextVar[list[Event] | None] = ContextVar("bus_pending", default=None)


def resolve(path: str) -> Handler:
    """ "tracking.tracking:customer_changed" -> chalicelib.tracking.tracking.customer_changed (imported once)."""
    fn = _resolved.get(path)
    if fn is None:
        module, _, name = path.partition(":")
        fn = getattr(importlib.import_module(f"chalicelib.{module}"), name)
        _resolved[path] = fn
    return fn


def handlers_for(event: Event) -> list[tuple[str, Handler]]:
    name = type(event).__name__
    wired = [(path, resolve(path)) for path in HANDLERS.get(name, ())]
    return wired + [(getattr(fn, "__qualname__", repr(fn)), fn) for fn in _extra.get(name, ())]


def subscribe(event_type: type[Event], handler: Handler) -> Callable[[], None]:
    """Add a handler after the wired ones; returns a function that removes it."""
    _extra.setdefault(event_type.__name__, []).append(handler)
    return lambda: _extra[event_type.__name__].remove(handler)


def record(event: Event) -> None:
    """Call after the write the event reports."""
    pending = _pending.get()
    if pending is None:
        dispatch([event])
    else:
        pending.append(event)


@contextlib.contextmanager
def collecting() -> Iterator[list[Event]]:
    """A unit of work: events recorded inside run when it closes. Nested: the outer one
    dispatches."""
    if _pending.get() is not None:
        yield _pending.get()
        return
    pending: list[Event] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)
        dispatch(pending)


def dispatch(events: list[Event]) -> list[tuple[Event, str, BaseException]]:
    """Run every handler of every event (and of the events they record). Returns the
    failures that are left after the retries (also logged and stored)."""
    failures = []
    queue = list(events)
    while queue:
        event = queue.pop(0)
        for path, handler in handlers_for(event):
            raised: list[Event] = []
            token = _pending.set(raised)  # what the handler records joins the queue
            try:
                error = _run(event, handler)
            finally:
                _pending.reset(token)
            queue.extend(raised)
            if error is not None:
                failures.append((event, path, error))
                _keep_failure(event, path, error)
    return failures


def _run(event: Event, handler: Handler) -> BaseException | None:
    error: BaseException | None = None
    for attempt in range(1, max(1, event.attempts) + 1):
        try:
            handler(event)
            return None
        except Exception as exc:  # one handler's failure is not the request's
            error = exc
            log.warning("handler %s failed on %r (attempt %d): %s", handler, event, attempt, exc)
    return error


def _keep_failure(event: Event, path: str, error: BaseException) -> None:
    """Logged, and stored so `replay` can run it again (unless the database is what
    failed: then the log is all there is)."""
    log.error("handler %s gave up on %r: %r", path, event, error)
    if not event.keep:
        return
    try:
        from chalicelib.platform.db import get_db  # platform layer, like this module

        get_db().event_failures.insert_one(
            {
                "event": f"{type(event).__module__}:{type(event).__qualname__}",
                "fields": dataclasses.asdict(event),
                "handler": path,
                "error": repr(error)[:500],
            }
        )
    except Exception as exc:
        log.error("event failure not stored: %r", exc)


def replay() -> tuple[int, int]:
    """Run every stored failure's handler again; a success removes it. Returns (done,
    still failing)."""
    from chalicelib.platform.db import get_db

    coll, done, left = get_db().event_failures, 0, 0
    for doc in list(coll.find()):
        module, _, name = doc["event"].partition(":")
        event = getattr(importlib.import_module(module), name)(**doc["fields"])
        if _run(event, resolve(doc["handler"])) is None:
            coll.delete_one({"_id": doc["_id"]})
            done += 1
        else:
            left += 1
    return done, left
