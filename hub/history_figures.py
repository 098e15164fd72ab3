"""今日与历史: a period's tickets, per service, per department and in total — issued, served,
no-shows, waiting time (issue → first call) and service time (last call → finish) — the
tickets issued in each hour of the hall's day, and the distributions of the two times.

Everything is counted in SQL, in three grouped queries, and only the counts come back: a
year of a busy hall (~300,000 tickets) is a few thousand grouped rows, never the tickets
themselves. A day takes milliseconds; a year most of a second on SQLite (three sorts of
its tickets), so the page keeps the counts of the days before today (PastCounts) and
counts only today again.

- Issued: every ticket but those never handed to anyone (pending, void), as the live
  figures count them (hub/hall_state.py).
- Hours: the tickets are grouped by service day and UTC hour of issue (stored naive UTC);
  each group is placed in the hall's local hour with that day's offset from the clock.
- Percentiles (P90, nearest rank: nine in ten tickets took at most this long) are exact to
  the second over up to EXACT_DAYS days; over a longer period the times are grouped by the
  minute and a percentile is the end of its minute (at most a minute over).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, case, extract, func, select

from hub.clock import Clock
from hub.db.schema import services, tickets

LONGEST_DAYS = 366  # a year, leap or not
EXACT_DAYS = 31
BUCKET_MINUTES = 5  # the distributions' bars: 0–5, 5–10, … 55–60 minutes, then 60 and over
BUCKETS = 12
DAY_HOURS = (8, 18)  # the hours chart spans at least 08:00–18:00 (more if tickets fall outside)
BUSIEST = 3  # the busiest hours highlighted
NOT_ISSUED = ("pending", "void")
WEEKDAYS = "一二三四五六日"


class PeriodError(ValueError):
    """A period or filter the page cannot show; the message says why, in Chinese."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def single(self) -> bool:
        return self.first == self.last

    @property
    def title(self) -> str:
        if self.single:
            return f"{_zh(self.first)}（星期{WEEKDAYS[self.first.weekday()]}）"
        return f"{_zh(self.first)}—{_zh(self.last)}（{self.days}天）"


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{name}“{text[:20]}”不是有效的日期，请按 2026-11-24 这样的格式填写"
                          ) from None


def parse_period(args: Mapping[str, str], today: date) -> Period:
    """The period of a query string: `day`, or `from` and `to` (a missing `to`: up to today),
    or today. PeriodError when a date is not one, `from` is after `to` or the period is
    longer than LONGEST_DAYS."""
    day, start, end = (args.get(k, "").strip() for k in ("day", "from", "to"))
    if day:
        one = _parse_day(day, "日期")
        return Period(one, one)
    if not start and not end:
        return Period(today, today)
    last = _parse_day(end, "结束日期") if end else None
    first = _parse_day(start, "开始日期") if start else last
    assert first is not None
    if last is None:
        last = max(first, today)
    if first > last:
        raise PeriodError(f"开始日期（{first.isoformat()}）晚于结束日期（{last.isoformat()}），"
                          "请重新选择")
    period = Period(first, last)
    if period.days > LONGEST_DAYS:
        raise PeriodError(f"查询时段最长{LONGEST_DAYS}天（一年），所选时段为{period.days}天，"
                          "请缩短后再查询")
    return period


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    department_code: str
    department_name: str


def service_list(conn: Connection, department: str | None = None) -> list[ServiceInfo]:
    """The hall's services (a department's only), in the order of their ticket prefixes."""
    query = (select(services.c.code, services.c.name, services.c.department_code,
                    services.c.department_name)
             .order_by(services.c.prefix, services.c.code))
    if department is not None:
        query = query.where(services.c.department_code == department)
    return [ServiceInfo(*r) for r in conn.execute(query)]


@dataclass
class Times:
    """Durations of some tickets in seconds: how many, their sum and their distribution
    (`counts`: value // step → tickets)."""

    step: int
    n: int = 0
    total: int = 0
    counts: Counter[int] = field(default_factory=Counter)

    def add(self, other: Times) -> None:
        self.n += other.n
        self.total += other.total
        self.counts.update(other.counts)

    @property
    def average_min(self) -> float | None:
        return None if self.n == 0 else self.total / self.n / 60

    def percentile_min(self, percent: int = 90) -> float | None:
        """The nearest-rank percentile in minutes: `percent` % of the tickets took at most
        this long (the end of the minute when grouped by minutes)."""
        if self.n == 0:
            return None
        rank = max(1, -(-percent * self.n // 100))
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                return (key if self.step == 1 else key + 1) * self.step / 60
        raise AssertionError("counts do not add up to n")

    def histogram(self) -> list[int]:
        """Tickets per BUCKET_MINUTES minutes, the last bar every time of an hour or more."""
        bars = [0] * (BUCKETS + 1)
        for key, n in self.counts.items():
            bars[min(max(key, 0) * self.step // (BUCKET_MINUTES * 60), BUCKETS)] += n
        return bars


def bucket_labels() -> list[str]:
    edges = [i * BUCKET_MINUTES for i in range(BUCKETS + 1)]
    return [f"{a}–{b}" for a, b in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}以上"]


@dataclass
class Row:
    """One line of the table: a service, a department's subtotal or the total."""

    kind: Literal["service", "department", "total"]
    key: str
    name: str
    department: str
    wait: Times
    service: Times
    issued: int = 0
    finished: int = 0
    no_show: int = 0

    @property
    def unfinished(self) -> int:
        """Issued but neither served nor a no-show: waiting, at a window, or left at closing."""
        return self.issued - self.finished - self.no_show

    @property
    def no_show_rate(self) -> float | None:
        return self.no_show / self.issued if self.issued else None

    def add(self, other: Row) -> None:
        self.issued += other.issued
        self.finished += other.finished
        self.no_show += other.no_show
        self.wait.add(other.wait)
        self.service.add(other.service)


@dataclass(frozen=True)
class History:
    period: Period
    rows: list[Row]  # services with tickets, each department's followed by its subtotal
    total: Row
    hours: list[int]  # the local hours shown, in order
    issued_by_hour: list[int]  # tickets issued in each of `hours` over the period
    open_days: int  # days of the period on which tickets were issued
    step: int  # seconds: 1, or 60 when percentiles are to the minute

    @property
    def per_day(self) -> bool:
        """Over several days the hours chart shows the average of a day with tickets."""
        return not self.period.single

    @property
    def hour_values(self) -> list[float]:
        if not self.per_day:
            return [float(n) for n in self.issued_by_hour]
        return [n / self.open_days if self.open_days else 0.0 for n in self.issued_by_hour]

    @property
    def busiest(self) -> list[int]:
        """Indexes into `hours` of the BUSIEST hours with most tickets (earlier on a tie)."""
        ranked = sorted((i for i, n in enumerate(self.issued_by_hour) if n),
                        key=lambda i: (-self.issued_by_hour[i], i))
        return sorted(ranked[:BUSIEST])


@dataclass
class Counts:
    """What the database holds about a period, before it is shaped for the page: per
    service code its tally (a Row without names), tickets issued per local hour, and the
    days with tickets."""

    step: int
    tallies: dict[str, Row] = field(default_factory=dict)
    by_hour: Counter[int] = field(default_factory=Counter)
    days: set[date] = field(default_factory=set)

    def tally(self, code: str) -> Row:
        if (row := self.tallies.get(code)) is None:
            row = self.tallies[code] = Row("service", code, "", "", Times(self.step),
                                           Times(self.step))
        return row

    def add(self, other: Counts) -> None:
        for code, row in other.tallies.items():
            self.tally(code).add(row)
        self.by_hour.update(other.by_hour)
        self.days |= other.days


class PastCounts:
    """The counts of periods before today, kept: a closed day no longer changes (a ticket
    left waiting at closing becomes `closed`, unfinished either way), so a year viewed
    again, or downloaded as Excel after it was viewed, costs only today's query. Up to
    `size` periods, the least recently used dropped first; the hub's restart clears it."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[object, ...], Counts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], count: Callable[[], Counts]) -> Counts:
        with self._lock:
            if (found := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
                return found
        found = count()  # outside the lock: two at once may both count, never wrongly
        with self._lock:
            self._kept[key] = found
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return found


def history(conn: Connection, clock: Clock, period: Period, chosen: list[ServiceInfo],
            every_service: bool, total_name: str = "合计",
            past: PastCounts | None = None) -> History:
    """The figures of `period` for the `chosen` services (`every_service`: all the hall's,
    so no filter on the service is needed). With `past`, the days before today are
    counted once and kept there."""
    step = 1 if period.days <= EXACT_DAYS else 60
    codes = None if every_service else tuple(sorted(s.code for s in chosen))
    today = clock.service_day()
    counts = Counts(step)
    if past is not None and period.first < today:
        before = Period(period.first, min(period.last, today - timedelta(days=1)))
        counts.add(past.get((before, codes, step),
                            lambda: count(conn, clock, before, codes, step)))
        if period.last >= today:
            counts.add(count(conn, clock, Period(today, period.last), codes, step))
    else:
        counts = count(conn, clock, period, codes, step)
    return _shaped(counts, period, chosen, total_name)


def count(conn: Connection, clock: Clock, period: Period, codes: tuple[str, ...] | None,
          step: int) -> Counts:
    """Three grouped queries: per service and waiting time (the tickets by status, the
    waits' distribution, the service times' sum), per service and service time (their
    distribution), and per day and UTC hour of issue."""
    where: list[ColumnElement[bool]] = [tickets.c.service_day >= period.first,
                                        tickets.c.service_day <= period.last]
    if codes is not None:
        where.append(tickets.c.service_code.in_(codes))
    issued = tickets.c.status.not_in(NOT_ISSUED)
    finished = tickets.c.status == "finished"
    wait, service = tickets.c.wait_seconds, tickets.c.service_seconds
    wait_key = wait if step == 1 else wait // step
    service_key = service if step == 1 else service // step
    counts = Counts(step)
    for code, key, n, n_finished, n_no_show, wait_total, service_n, service_total in \
            conn.execute(
                select(tickets.c.service_code, wait_key, func.count(),
                       func.sum(case((finished, 1), else_=0)),
                       func.sum(case((tickets.c.status == "no_show", 1), else_=0)),
                       func.sum(wait), func.count(case((finished, service))),
                       func.sum(case((finished, service))))
                .where(*where, issued).group_by(tickets.c.service_code, wait_key)):
        row = counts.tally(code)
        row.issued += n
        row.finished += n_finished
        row.no_show += n_no_show
        row.service.n += service_n
        row.service.total += int(service_total or 0)
        if key is not None:  # called: its wait is known
            row.wait.n += n
            row.wait.total += int(wait_total)
            row.wait.counts[int(key)] += n
    for code, key, n in conn.execute(
            select(tickets.c.service_code, service_key, func.count())
            .where(*where, finished, service.is_not(None))
            .group_by(tickets.c.service_code, service_key)):
        counts.tally(code).service.counts[int(key)] += n
    _by_hour(conn, clock, period, where + [issued], counts)
    return counts


def _shaped(counts: Counts, period: Period, chosen: list[ServiceInfo], total_name: str
            ) -> History:
    """The table's rows (services with tickets, by department, each department of several
    followed by its subtotal), the total and the hours from DAY_HOURS on."""
    step = counts.step
    rows: list[Row] = []
    total = Row("total", "total", total_name, "", Times(step), Times(step))
    departments: dict[str, list[Row]] = {}
    for s in chosen:
        tally = counts.tallies.get(s.code)
        if tally is not None and tally.issued:
            row = Row("service", s.code, s.name, s.department_name, Times(step), Times(step))
            row.add(tally)
            departments.setdefault(s.department_name, []).append(row)
    for department, shown in departments.items():
        rows += shown
        if len(shown) > 1:
            subtotal = Row("department", department, f"{department} 小计", department,
                           Times(step), Times(step))
            for r in shown:
                subtotal.add(r)
            rows.append(subtotal)
        for r in shown:
            total.add(r)
    first = min([DAY_HOURS[0], *counts.by_hour])
    last = max([DAY_HOURS[1] - 1, *counts.by_hour])
    hours = list(range(first, last + 1))
    return History(period, rows, total, hours, [counts.by_hour[h] for h in hours],
                   len(counts.days), step)


def _by_hour(conn: Connection, clock: Clock, period: Period, where: list[ColumnElement[bool]],
             counts: Counts) -> None:
    """The tickets issued per local hour, and the days with any, into `counts`."""
    utc_hour = extract("hour", tickets.c.issued_at)
    columns: list[ColumnElement[Any]] = [tickets.c.service_day, utc_hour]
    # a zone off the whole hour (+05:30): which side of its half hour the ticket fell on
    noon = clock.day_start(period.first) + timedelta(hours=12)
    offset = clock.local(noon).utcoffset() or timedelta()
    part = int(offset.total_seconds() // 60) % 60
    if part:
        columns.append(extract("minute", tickets.c.issued_at) >= 60 - part)
    offsets: dict[date, int] = {}  # minutes east of UTC, each service day
    for found in conn.execute(select(*columns, func.count()).where(*where).group_by(*columns)):
        day, hour, n = found[0], int(found[1]), int(found[-1])
        if day not in offsets:
            at = clock.local(clock.day_start(day) + timedelta(hours=12)).utcoffset()
            offsets[day] = int((at or timedelta()).total_seconds() // 60)
        late = 1 if part and found[2] else 0
        counts.by_hour[((hour * 60 + offsets[day]) // 60 + late) % 24] += n
    counts.days |= offsets.keys()
