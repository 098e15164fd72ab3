"""How long a newcomer will wait, per service: the figure on the ticket, the kiosk and screens.

How it works, in plain words. The hub plays the queue forward the way its windows call:

1. How long a case takes. Each service's average time at the window (call → finish)
   of the cases finished today, leaning on the hall's average while the service has few:
   the average counts PRIOR_CASES more cases that took the hall's average time. The
   hall's average leans the same way on DEFAULT_SERVICE_S (8 minutes) early in the day.
   Tickets sent on to a given window (统一出件: handing out the result) have their own
   average, taken over every service, since they take far less than a new case.
2. When each staffed window can call next: an open window now; a window with a case in
   hand when that case has taken its service's average, but never sooner than a third
   of the average from now (a case that has run long still has some way to go); a
   paused window or a post away PAUSE_S after the absence began (or now, past that).
3. Then, as the call rule of hub/handlers/calls.py does, the window free first calls its
   next ticket (priority first, then the earliest issued, among the services it serves
   and the tickets sent to it) and is busy for that ticket's average time, and so on. A
   window that has called everyone it can call is where a newcomer would be called.
4. A newcomer of a service is called by the first window serving it that gets there:
   that moment is the estimate. A newcomer comes after everybody waiting, so one play
   gives every service's estimate (the queue summary); a priority newcomer comes after
   the priority tickets only. None when no staffed window serves the service: the kiosk
   then says so instead of guessing.

Windows that serve several services thus share their time among them in call order, and
windows serving other services too take their part of a shared queue. What it cannot
know: tickets issued later with priority, no-shows (called but gone: shorter waits),
pauses to come (longer ones) and how long each case really takes.

Cost: it runs for every ticket, in the issuing transaction, and for each queue summary.
Prepared statements over the staffed windows and today's waiting tickets (five for a
ticket), and a play of one step per waiting ticket; today's case times are read again
only when a case has finished since (a count over the queue index tells).
docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Connection, Float, bindparam, func, select

from hub.db.prepared import Prepared
from hub.db.schema import WINDOW_STAFFED, tickets, window_services, windows

DEFAULT_SERVICE_S = 480  # 8 minutes: a county hall's usual case before the day has data
MIN_SAMPLES = 3  # (the queue summary's avg_service_s shows the default until then)
PRIOR_CASES = 3  # how many cases of the hall's average a service's own average counts
LONG_CASE_SHARE = 1 / 3  # a case past its average: this share of the average still to go
PAUSE_S = 180  # a pause or a post away is assumed over 3 minutes after it began

# Every statement reads today's rows through the queue index or the small window tables.
_OPEN_FOR = Prepared(
    select(func.count()).select_from(window_services.join(windows))
    .where(window_services.c.service_code == bindparam("b_code"), WINDOW_STAFFED))
_STAFFED = Prepared(  # each staffed window, and the ticket it is serving if any
    select(windows.c.number, windows.c.status, windows.c.paused_since, tickets.c.service_code,
           tickets.c.target_window, tickets.c.called_at)
    .select_from(windows.outerjoin(tickets, tickets.c.id == windows.c.serving_ticket_id))
    .where(WINDOW_STAFFED))
_SERVED = Prepared(
    select(window_services.c.window_number, window_services.c.service_code)
    .select_from(window_services.join(windows)).where(WINDOW_STAFFED))
_WAITING = Prepared(  # in the order the call rule takes them
    select(tickets.c.id, tickets.c.service_code, tickets.c.target_window,
           tickets.c.priority.is_not(None))
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting")
    .order_by(tickets.c.priority.is_(None), tickets.c.issued_at, tickets.c.id))
_FINISHED_MARK = Prepared(  # from the queue index alone
    select(func.count(), func.sum(tickets.c.id))
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "finished"))
_SENT_ON = tickets.c.target_window.is_not(None)
_TIMES = Prepared(
    select(tickets.c.service_code, _SENT_ON, func.count(tickets.c.service_seconds),
           func.avg(tickets.c.service_seconds, type_=Float))
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "finished",
           tickets.c.service_seconds.is_not(None))
    .group_by(tickets.c.service_code, _SENT_ON))


def average_service_s(samples: int, average: float | None) -> int:
    """Today's plain average of a service, once there are enough finished cases to show it."""
    if samples < MIN_SAMPLES or average is None:
        return DEFAULT_SERVICE_S
    return round(average)


def leaning_average(samples: int, average: float | None, prior: float) -> float:
    """An average of few cases pulled toward `prior`, as if PRIOR_CASES more had taken it."""
    if not samples or average is None:
        return prior
    return (samples * average + PRIOR_CASES * prior) / (samples + PRIOR_CASES)


@dataclass(frozen=True)
class CaseTimes:
    """Expected seconds at the window: per service, for tickets sent on, and the hall's."""

    by_service: Mapping[str, float]
    sent_on: float
    hall: float

    @classmethod
    def from_finished(cls, rows: Iterable[tuple[str, bool, int, float | None]]
                      ) -> CaseTimes:
        """From (service, sent on to a window?, cases, average seconds) of today's cases."""
        own: dict[str, tuple[int, float]] = {}
        sent_n, sent_total = 0, 0.0
        for service, sent_on, n, average in rows:
            if not n or average is None:
                continue
            avg = float(average)  # (PostgreSQL's avg is a Decimal)
            if sent_on:
                sent_n, sent_total = sent_n + n, sent_total + n * avg
            else:
                own[service] = (n, avg)
        n_all = sum(n for n, _ in own.values())
        hall = leaning_average(n_all, sum(n * a for n, a in own.values()) / n_all
                               if n_all else None, DEFAULT_SERVICE_S)
        return cls({s: leaning_average(n, a, hall) for s, (n, a) in own.items()},
                   leaning_average(sent_n, sent_total / sent_n if sent_n else None, hall), hall)

    def of(self, service: str, target_window: int | None) -> float:
        """What one ticket is expected to take at the window."""
        if target_window is not None:
            return self.sent_on
        return self.by_service.get(service, self.hall)


@dataclass(frozen=True)
class Window:
    """A staffed window for the estimate: what it serves, and in how long it can call."""

    number: int
    services: frozenset[str]
    free_in_s: float


class Waiting(NamedTuple):
    """A waiting ticket; a list of them is in call order (priority, then issue time)."""

    service: str
    target_window: int | None = None  # sent on to this window: only it calls the ticket


def windows_done(windows_now: Sequence[Window], queue: Iterable[tuple[str, int | None]],
                 times: CaseTimes) -> Iterator[tuple[Window, float]]:
    """Each window with the seconds until it has called all of `queue` it may, earliest first."""
    lines: dict[str | int, deque[int]] = {}  # places in the queue, per service or window sent to
    for w in windows_now:  # only what these windows may call
        lines[w.number] = deque()
        for service in w.services:
            lines[service] = deque()
    cost: list[float] = []  # per place, the seconds at the window
    by_service, hall, sent_on = times.by_service, times.hall, times.sent_on
    for service, target in queue:
        line = lines.get(service if target is None else target)
        if line is not None:
            line.append(len(cost))
            cost.append(by_service.get(service, hall) if target is None else sent_on)
    mine = {w.number: [lines[w.number], *(lines[k] for k in w.services)] for w in windows_now}
    by_number = {w.number: w for w in windows_now}
    free = [(w.free_in_s, w.number) for w in windows_now]
    heapq.heapify(free)
    while free:
        at, number = heapq.heappop(free)
        first: deque[int] | None = None  # the line whose head was issued first
        for line in mine[number]:
            if line and (first is None or line[0] < first[0]):
                first = line
        if first is None:
            yield by_number[number], at
        else:
            heapq.heappush(free, (at + cost[first.popleft()], number))


def wait_by_service(windows_now: Sequence[Window], queue: Iterable[tuple[str, int | None]],
                    times: CaseTimes) -> dict[str, int]:
    """A newcomer's wait in seconds for each service a staffed window serves."""
    best: dict[str, int] = {}
    for window, at in windows_done(windows_now, queue, times):
        for service in window.services:
            best.setdefault(service, round(at))  # the first window to get there calls them
    return best


def wait_for(windows_now: Sequence[Window], queue: Iterable[tuple[str, int | None]],
             times: CaseTimes, service: str) -> int | None:
    """A newcomer's wait in seconds for one service; None when no staffed window serves it."""
    # only the windows linked to it through the services they share matter
    linked, services, rest = [], {service}, list(windows_now)
    while found := [w for w in rest if w.services & services]:
        linked += found
        services.update(*(w.services for w in found))
        rest = [w for w in rest if w not in found]
    for window, at in windows_done(linked, queue, times):
        if service in window.services:
            return round(at)
    return None


# Today's case times change only when a case finishes: kept per database and day, read
# again when the finished tickets (their count and ids, from the queue index) change.
_times_seen: dict[tuple[str, date], tuple[tuple[int, int], CaseTimes]] = {}


def case_times(conn: Connection, day: date) -> CaseTimes:
    """Today's expected case times (see the module's docstring)."""
    mark = _FINISHED_MARK.one_or_none(conn, {"b_day": day}) or (0, 0)
    where = (str(conn.engine.url), day)
    seen = _times_seen.get(where)
    if seen is not None and seen[0] == (mark[0], mark[1] or 0):
        return seen[1]
    times = CaseTimes.from_finished(_TIMES.run(conn, {"b_day": day}).fetchall())
    if len(_times_seen) > 16:  # a hub has one database; tests have many
        _times_seen.clear()
    _times_seen[where] = ((mark[0], mark[1] or 0), times)
    return times


def hall_now(conn: Connection, day: date, now: datetime
              ) -> tuple[list[Window], list[tuple[int, str, int | None, int]], CaseTimes]:
    """Staffed windows, waiting tickets (id, service, window sent to, priority?) in call
    order, and today's case times."""
    times = case_times(conn, day)
    served: dict[int, set[str]] = {}
    for number, service in _SERVED.run(conn, {}).fetchall():
        served.setdefault(number, set()).add(service)
    staffed = []
    for number, status, paused_since, service, target, called_at in _STAFFED.all(conn, {}):
        free_in = 0.0
        if service is not None and called_at is not None:  # a case in hand
            expected = times.of(service, target)
            spent = (now - called_at).total_seconds()
            free_in = max(expected - spent, LONG_CASE_SHARE * expected)
        elif status in ("paused", "away") and paused_since is not None:
            free_in = max(0.0, PAUSE_S - (now - paused_since).total_seconds())
        staffed.append(Window(number, frozenset(served.get(number, ())), free_in))
    return staffed, _WAITING.run(conn, {"b_day": day}).fetchall(), times


def estimates_now(conn: Connection, day: date, now: datetime) -> dict[str, int]:
    """Each service's wait for a newcomer now, in seconds; absent: no staffed window serves it."""
    staffed, queue, times = hall_now(conn, day, now)
    return wait_by_service(staffed, ((service, target) for _, service, target, _ in queue),
                           times)


def estimate_for(conn: Connection, day: date, now: datetime, service: str, ticket_id: int,
                 priority: bool = False) -> int | None:
    """The estimate for the new ticket `ticket_id` of `service`: those before it only."""
    if not _OPEN_FOR.scalar(conn, {"b_code": service}):
        return None
    staffed, queue, times = hall_now(conn, day, now)
    before = ((svc, target) for tid, svc, target, urgent in queue
              if tid < ticket_id and (urgent or not priority))
    return wait_for(staffed, before, times, service)
