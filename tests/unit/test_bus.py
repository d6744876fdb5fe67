"""The message bus (chalicelib/platform/bus.py): events recorded in a unit of work run after it,
in the order their handlers are listed; a failing handler is retried, then logged and
kept for a replay, and neither stops the next handler nor undoes the caller's work."""

from __future__ import annotations

import importlib
import inspect
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from chalicelib.platform import bus, db
from tests.conftest import use_database


@dataclass(frozen=True)
class Pinged(bus.Event):
    n: int


@dataclass(frozen=True)
class Flaky(bus.Event):
    attempts: ClassVar[int] = 3
    n: int


@pytest.fixture
def mongomock():
    name = "t_" + uuid.uuid4().hex[:12]
    use_database("mongomock://", name)
    yield db.get_db()
    db.reset_client()


@pytest.fixture
def calls():
    seen: list = []
    removers = [
        bus.subscribe(Pinged, lambda e: seen.append(("first", e.n))),
        bus.subscribe(Pinged, lambda e: seen.append(("second", e.n))),
    ]
    yield seen
    for remove in removers:
        remove()


def test_events_of_a_unit_of_work_run_after_it_in_the_order_recorded(calls):
    with bus.collecting():
        bus.record(Pinged(1))
        bus.record(Pinged(2))
        assert calls == []  # nothing runs in the middle of the write
    assert calls == [("first", 1), ("second", 1), ("first", 2), ("second", 2)]


def test_outside_a_unit_of_work_an_event_runs_at_once(calls):
    bus.record(Pinged(7))
    assert calls == [("first", 7), ("second", 7)]


def test_a_nested_unit_of_work_leaves_dispatch_to_the_outer_one(calls):
    with bus.collecting():
        with bus.collecting():
            bus.record(Pinged(1))
        assert calls == []
    assert calls == [("first", 1), ("second", 1)]


def test_events_still_run_when_the_unit_of_work_raises(calls):
    with pytest.raises(RuntimeError), bus.collecting():
        bus.record(Pinged(3))  # the write it reports happened
        raise RuntimeError("a later step failed")
    assert calls == [("first", 3), ("second", 3)]


def test_an_event_a_handler_records_runs_after_the_current_one(calls):
    def chain(e):
        if e.n == 1:
            bus.record(Pinged(2))
        calls.append(("chain", e.n))

    remove = bus.subscribe(Pinged, chain)
    try:
        bus.dispatch([Pinged(1)])
    finally:
        remove()
    assert calls == [("first", 1), ("second", 1), ("chain", 1), ("first", 2), ("second", 2), ("chain", 2)]


def test_a_failing_handler_is_retried_then_kept_and_the_next_one_runs(mongomock, caplog):
    tries, after = [], []

    def broken(e):
        tries.append(e.n)
        raise ValueError("copy not written")

    removers = [bus.subscribe(Flaky, broken), bus.subscribe(Flaky, lambda e: after.append(e.n))]
    try:
        with bus.collecting():
            bus.record(Flaky(5))
    finally:
        for remove in removers:
            remove()
    assert tries == [5, 5, 5]  # Flaky.attempts
    assert after == [5]
    (kept,) = mongomock.event_failures.find()
    assert kept["event"] == f"{__name__}:Flaky" and kept["fields"] == {"n": 5}
    assert "copy not written" in kept["error"]
    assert "gave up" in caplog.text


def test_a_handler_that_recovers_on_a_retry_leaves_nothing_kept(mongomock):
    tries = []

    def once_broken(e):
        tries.append(e.n)
        if len(tries) == 1:
            raise ValueError("lock busy")

    remove = bus.subscribe(Flaky, once_broken)
    try:
        assert bus.dispatch([Flaky(1)]) == []
    finally:
        remove()
    assert tries == [1, 1] and mongomock.event_failures.count_documents({}) == 0


def test_an_event_without_retries_runs_its_handler_once(mongomock):
    tries = []

    def broken(e):
        tries.append(e.n)
        raise ValueError("SES refused")

    remove = bus.subscribe(Pinged, broken)
    try:
        (failure,) = bus.dispatch([Pinged(1)])
    finally:
        remove()
    assert tries == [1] and failure[0] == Pinged(1)


def test_replay_runs_a_kept_failure_again_and_forgets_it_once_done(mongomock, monkeypatch):
    """A stored failure names a wired handler ("module:function"); replay resolves it."""
    import chalicelib.platform.clock as target

    done = []
    monkeypatch.setattr(target, "replayed", lambda e: done.append(e), raising=False)
    mongomock.event_failures.insert_one(
        {"event": f"{__name__}:Flaky", "fields": {"n": 9}, "handler": "platform.clock:replayed", "error": "x"}
    )
    bus._resolved.pop("platform.clock:replayed", None)
    assert bus.replay() == (1, 0)
    assert done == [Flaky(9)] and mongomock.event_failures.count_documents({}) == 0


def _events() -> dict[str, type]:
    found = {}
    lib = Path(bus.__file__).parents[1]
    for path in sorted(lib.rglob("*.py")):
        dotted = ".".join(path.relative_to(lib.parent).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(dotted)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, bus.Event) and obj is not bus.Event:
                found[name] = obj
    return found


def test_every_domain_event_is_wired_and_every_handler_exists():
    events = _events()
    assert set(events) == set(bus.HANDLERS), "an event nobody handles, or a handler of no event"
    for paths in bus.HANDLERS.values():
        for path in paths:
            assert callable(bus.resolve(path)), path
    for name, cls in events.items():
        assert cls.__dataclass_params__.frozen, name


@dataclass(frozen=True)
class Unkept(bus.Event):
    keep: ClassVar[bool] = False
    n: int


def test_an_event_that_is_not_kept_is_only_logged(mongomock, caplog):
    def broken(e):
        raise ValueError("SES refused")

    remove = bus.subscribe(Unkept, broken)
    try:
        assert len(bus.dispatch([Unkept(1)])) == 1
    finally:
        remove()
    assert "gave up" in caplog.text and mongomock.event_failures.count_documents({}) == 0
