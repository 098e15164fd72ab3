"""An hour without the provincial 好差评 system, with the hub's own backoffs (5 s doubling
to 300 s): the forwarder keeps trying on its schedule and never sooner, nothing is lost or
sent ahead of its turn, and once the province answers again every review and follow-up
result reaches it exactly once, in order, for each case and overall.

The hour passes on the hub's clock, not the wall's: the hall runs in real time while its
cases are served and reviewed, then the clock stops and the test moves it from one of the
forwarder's retries to the next, against the stand-in of tests/hub/test_forwarder.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Row, select

from caller_display.caller_core import CallerCore
from hub.app import Hub
from hub.clock import ShiftedClock
from hub.db.schema import forward_outbox, review_followups
from hub.followups import STEPS, Step, record_step
from hub.settings import HubSettings
from protocol.messages import CaseFinished, ErrorReply, Grade, ReviewRecorded, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually
from tests.hub.test_forwarder import Province

SERVICE = "GA_HJQY"  # served at windows 5 and 6
OUTAGE = timedelta(hours=1)
FIRST_BACKOFF, MAX_BACKOFF = timedelta(seconds=5), timedelta(seconds=300)  # the hub's defaults
# (window, grade, reason): in the order the citizens pressed their evaluators
PRESSED: list[tuple[int, Grade, str | None]] = [
    (5, "very_satisfied", None), (6, "unsatisfied", "等候时间太长"), (5, "satisfied", None),
    (6, "basic", None), (5, "very_unsatisfied", "服务态度不好"), (6, "satisfied", None),
    (5, "unsatisfied", "办事效率低"), (6, "very_satisfied", None),
]


class StoppableClock(ShiftedClock):
    """The hall's clock, running from the morning until `stop()`; then it moves only when
    the test moves it (`move_to`), so each retry's time is known to the microsecond."""

    def __init__(self, timezone: str, local: datetime) -> None:
        super().__init__(timezone, local)
        self.stopped: datetime | None = None  # one assignment: every thread sees one time

    def now(self) -> datetime:
        stopped = self.stopped
        return stopped if stopped is not None else super().now()

    def stop(self) -> datetime:
        self.stopped = super().now()
        return self.stopped

    def move_to(self, when: datetime) -> None:
        assert self.stopped is not None and when >= self.stopped, "time only goes forward"
        self.stopped = when


@pytest.fixture
def province() -> Iterator[Province]:
    p = Province()  # down: nothing listens on its port until `up()`
    yield p
    p.down()


@pytest.fixture
def hub(hub_settings: HubSettings, province: Province) -> Iterator[Hub]:
    """The hub forwarding to the stand-in with its default backoffs, polling often."""
    assert hub_settings.start_at is not None
    settings = hub_settings.model_copy(update={
        "forward_url": f"http://127.0.0.1:{province.port}/reviews"})
    assert (settings.forward_first_backoff_s, settings.forward_max_backoff_s) == (
        FIRST_BACKOFF.total_seconds(), MAX_BACKOFF.total_seconds())
    h = Hub(settings, clock=StoppableClock(settings.timezone, hub_settings.start_at))
    assert h.forwarder is not None
    h.forwarder.idle_s = 0.02
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


def outbox(hub: Hub) -> list[Row[Any]]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(forward_outbox).order_by(forward_outbox.c.id)))


def serve_and_review(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> dict[int, int]:
    """Every case of PRESSED served, finished and reviewed at its window; the bad ones
    followed up to their result on the hub's thread, as the admin tool has it done.
    {case id: review id}."""
    machine = kiosk(make_link, tmp_path, hub)
    windows: dict[int, CallerCore] = {}
    for number, staff in ((5, "S051"), (6, "S061")):
        windows[number] = caller(make_link, number)
        assert not isinstance(windows[number].sign_in(staff, "123456"), ErrorReply)
        windows[number].open()
    reviewed: dict[int, int] = {}
    for number, grade, reason in PRESSED:
        window = windows[number]
        assert machine.take_ticket(SERVICE).issued is not None
        eventually(lambda: isinstance(window.call_next(), TicketCalled),  # noqa: B023
                   what=f"window {number}'s call")
        done = window.finish()
        assert isinstance(done, CaseFinished)
        kept = window.review(grade, reason)
        assert isinstance(kept, ReviewRecorded), kept
        reviewed[done.case.id] = kept.review.id
    with hub.engine.connect() as conn:
        followups = list(conn.execute(select(review_followups.c.id)
                                      .order_by(review_followups.c.id)).scalars())
    assert len(followups) == sum(1 for _, g, _ in PRESSED if g.endswith("unsatisfied"))
    for followup in followups:
        for step in STEPS:
            def job(conn: Connection, followup: int = followup, step: Step = step) -> None:
                record_step(conn, hub.consumer.ctx, followup, step, f"{step} 已完成")
            hub.consumer.run(job)
    return reviewed


def retried(hub: Hub, attempts: int) -> Row[Any] | None:
    """The oldest entry once it has been tried more than `attempts` times."""
    head = outbox(hub)[0]
    return head if head.attempts > attempts else None


def test_an_hour_of_outage_then_every_review_once_in_order(
        hub: Hub, province: Province, make_link: LinkFactory, tmp_path: Path) -> None:
    clock = hub.clock
    assert isinstance(clock, StoppableClock)
    reviewed = serve_and_review(hub, make_link, tmp_path)
    hall = hub.settings.hall_id
    keys = [e.key for e in outbox(hub)]
    assert [k for k in keys if k.startswith("review:")] == [
        f"review:{hall}:{r}" for r in reviewed.values()], "in the order they were pressed"
    assert len(keys) == len(PRESSED) + 3  # every review, and the three follow-up results

    # the hour: from each retry to the next, as the forwarder scheduled it
    start = clock.stop()
    waits: list[timedelta] = []
    while clock.now() - start < OUTAGE:
        head = outbox(hub)[0]
        if head.next_try_at > clock.now():
            early = head.next_try_at - timedelta(seconds=1)
            if early > clock.now():
                clock.move_to(early)
                time.sleep(0.15)  # several polls of the forwarder: it waits for its time
                assert outbox(hub)[0].attempts == head.attempts, "retried before its backoff"
            clock.move_to(head.next_try_at)
        tried = eventually(lambda: retried(hub, head.attempts),  # noqa: B023
                           what=f"retry #{head.attempts + 1}")
        assert tried.attempts == head.attempts + 1 and tried.sent_at is None
        assert tried.last_error and "Connection refused" in tried.last_error
        waits.append(tried.next_try_at - clock.now())  # the clock stood still meanwhile
        expected = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** head.attempts)
        assert waits[-1] == expected, f"retry #{tried.attempts}: waits {waits[-1]}"

    assert province.received == [] and province.applied == {}, "nothing reached it"
    now = outbox(hub)
    assert [e.key for e in now] == keys and all(e.sent_at is None for e in now)
    assert all(e.attempts == 0 for e in now[1:]), "only the oldest is tried: none overtakes it"
    assert now[0].attempts >= 12 and len(waits) >= 11
    assert max(waits) == MAX_BACKOFF and waits[-3:] == [MAX_BACKOFF] * 3
    assert waits == sorted(waits), "the backoff grows, then stays at its maximum"

    # the province answers again: nothing goes before the backoff is over, then all of it
    province.up()
    time.sleep(0.15)
    assert province.received == [], "the forwarder waits out its backoff"
    clock.move_to(now[0].next_try_at)
    eventually(lambda: all(e.sent_at is not None for e in outbox(hub)), timeout=10,
               what="the outbox to empty")

    assert province.received == keys, "each entry once, in the order they happened"
    assert list(province.applied) == keys
    applied_reviews = [province.applied[k] for k in keys if k.startswith("review:")]
    assert [(r["window"], r["grade"], r["reason"]) for r in applied_reviews] == PRESSED
    assert sorted(r["case_id"] for r in applied_reviews) == sorted(reviewed)
    assert [r["id"] for r in applied_reviews] == sorted(reviewed.values())
    for case_id, review_id in reviewed.items():  # each case: its review, then its result
        of_case = [k for k in keys if province.applied[k].get("review_id") == review_id
                   or (k.startswith("review:") and province.applied[k]["case_id"] == case_id)]
        assert of_case[0] == f"review:{hall}:{review_id}"
        bad = province.applied[of_case[0]]["grade"].endswith("unsatisfied")
        assert len(of_case) == (2 if bad else 1), of_case
        if bad:
            result = province.applied[of_case[1]]
            assert result["kind"] == "followup_result" and result["result"] == "result 已完成"
    done = outbox(hub)
    assert all(e.sent_at == now[0].next_try_at for e in done), "sent as soon as it could be"
    assert done[0].attempts == now[0].attempts + 1 and all(e.attempts == 1 for e in done[1:])
