"""今日与历史: a period's tickets, per service, per department and in total — issued, served,
no-shows, waiting time (issue → first call) and service time (last call → finish) — the
tickets issued in each hour of the hall's day, and the distributions of the two times.

Where the figures come from. Each closed service day is rolled up per service into four
small tables (hub/db/schema.py, history_*): its counts, its times per whole minute (with
each ticket's second within it) and its tickets per UTC hour, written by `roll_up_days`
in the transaction that closes the day (hub/day_close.py). A period is summed from those
in SQL — a year of a busy hall (~300,000 tickets) is ~276,000 rollup rows, but narrow
and in key order — and only the sums come back. Today, and any past day without a
rollup, is counted from `tickets` by the same rules (`count`), in three grouped queries.

A past day has no rollup when the hub has not closed it: a database from before the
rollup, until the hub's first close; a day the hub was down at its end, or one with a
ticket still open at a window at closing (served across midnight), until the next close;
days before the hall's first ticket. The page does not write them: it reads with the
read-only engine, counts such days from their tickets for that view, and leaves storing
to the hub's close, which at start and at each new day rolls up every past day without a
rollup (`days_to_roll_up`). Writing from the page would have to go through the hub's
request thread (`consumer.run`), where rolling up a year (1.7 s for 300,000 tickets)
would hold up the hall's calls at whatever moment a manager opened the page; at the
close it happens once, when the hub starts or at midnight. A day's rollup is written
again whenever the hub closes that day again (each close rolls up the day just ended, so
a correction to a ticket of it is seen); an older day after a correction needs
`roll_up_days` for it.

- Issued: every ticket but those never handed to anyone (pending, void), as the live
  figures count them (hub/hall_state.py).
- Hours: the tickets are grouped by service day and UTC hour of issue (stored naive UTC);
  each group is placed in the hall's local hour with that day's offset from the clock (in
  a zone off the whole hour, the tickets from its minute 30 — or 15, 45 — on go to the
  next local hour; the rollup keeps those counts).
- Percentiles (P90, nearest rank: nine in ten tickets took at most this long) are exact to
  the second over up to EXACT_DAYS days; over a longer period the times are grouped by the
  minute and a percentile is the end of its minute (at most a minute over).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    union_all,
)

from hub.clock import Clock
from hub.db.schema import (
    history_counts,
    history_days,
    history_hours,
    history_times,
    services,
    tickets,
)

LONGEST_DAYS = 366  # a year, leap or not
EXACT_DAYS = 31
BUCKET_MINUTES = 5  # the distributions' bars: 0–5, 5–10, … 55–60 minutes, then 60 and over
BUCKETS = 12
DAY_HOURS = (8, 18)  # the hours chart spans at least 08:00–18:00 (more if tickets fall outside)
BUSIEST = 3  # the busiest hours highlighted
NOT_ISSUED = ("pending", "void")
ISSUED = tickets.c.status.not_in(NOT_ISSUED)
FINISHED = tickets.c.status == "finished"
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


# ----------------------------------------------------------------- a period's figures

def history(conn: Connection, clock: Clock, period: Period, chosen: list[ServiceInfo],
            every_service: bool, total_name: str = "合计") -> History:
    """The figures of `period` for the `chosen` services (`every_service`: all the hall's,
    so no filter on the service is needed): the days before today that are rolled up from
    their rollup, the others from their tickets."""
    step = 1 if period.days <= EXACT_DAYS else 60
    codes = None if every_service else tuple(sorted(s.code for s in chosen))
    last_past = min(period.last, clock.service_day() - timedelta(days=1))
    counts = Counts(step)
    rolled: set[date] = set()
    # (a zone off the whole hour by other than a quarter: every day from its tickets)
    if period.first <= last_past and _off_hour(clock, period.first) % 15 == 0:
        past = Period(period.first, last_past)
        rolled = rolled_up(conn, past)
        if rolled:  # the period's other past days have no rows there
            counts.add(from_rollup(conn, clock, past, codes, step))
    live = [d for d in _days(period.first, period.last) if d not in rolled]
    if live:
        counts.add(count(conn, clock, live, codes, step))
    return _shaped(counts, period, chosen, total_name)


def rolled_up(conn: Connection, period: Period) -> set[date]:
    """The days of `period` with a rollup."""
    day = history_days.c.service_day
    return set(conn.scalars(select(day).where(day >= period.first, day <= period.last)))


def from_rollup(conn: Connection, clock: Clock, period: Period, codes: tuple[str, ...] | None,
                step: int) -> Counts:
    """The counts of the rolled-up days of `period`, summed in SQL: per service (tickets by
    status, the times' sums), per service and minute (the times' distributions; to the
    second when `step` is 1) and per day and UTC hour of issue."""
    def where(table: Any) -> list[ColumnElement[bool]]:
        found = [table.c.service_day >= period.first, table.c.service_day <= period.last]
        return found if codes is None else [*found, table.c.service_code.in_(codes)]

    counts = Counts(step)
    c = history_counts.c
    for code, issued, finished, no_show, waited, wait_sum, served, service_sum in \
            conn.execute(
                select(c.service_code, func.sum(c.issued), func.sum(c.finished),
                       func.sum(c.no_show), func.sum(c.waited), func.sum(c.wait_sum),
                       func.sum(c.served), func.sum(c.service_sum))
                .where(*where(history_counts)).group_by(c.service_code)):
        row = counts.tally(code)
        row.issued += issued
        row.finished += finished
        row.no_show += no_show
        row.wait.n += waited
        row.wait.total += wait_sum
        row.service.n += served
        row.service.total += service_sum
    t = history_times.c
    by_minute = (t.service_code, t.minute)
    if step == 1:  # each ticket's second within its minute
        for code, minute, waits, services in conn.execute(
                select(*by_minute, func.aggregate_strings(t.wait_within, " "),
                       func.aggregate_strings(t.service_within, " "))
                .where(*where(history_times)).group_by(*by_minute)):
            row = counts.tally(code)
            for into, seconds in ((row.wait.counts, waits), (row.service.counts, services)):
                for second, n in Counter(seconds.split()).items():
                    into[minute * 60 + int(second)] += n
    else:
        for code, minute, waited, served in conn.execute(
                select(*by_minute, func.sum(t.waited), func.sum(t.served))
                .where(*where(history_times)).group_by(*by_minute)):
            row = counts.tally(code)
            if waited:
                row.wait.counts[minute] += waited
            if served:
                row.service.counts[minute] += served
    h = history_hours.c
    part = _off_hour(clock, period.first)
    columns: list[ColumnElement[Any]] = [h.service_day, h.utc_hour, func.sum(h.n)]
    if part:  # the tickets from minute 60 - part on fall in the next local hour
        columns.append(func.sum({15: h.from_45, 30: h.from_30, 45: h.from_15}[part]))
    offsets: dict[date, int] = {}
    for found in conn.execute(select(*columns).where(*where(history_hours))
                              .group_by(h.service_day, h.utc_hour)):
        day, hour, n = found[0], int(found[1]), int(found[2])
        late = int(found[3]) if part else 0
        if day not in offsets:
            offsets[day] = _offset(clock, day)
        local = (hour * 60 + offsets[day]) // 60
        if n > late:  # no hour without tickets among the keys: they set the chart's span
            counts.by_hour[local % 24] += n - late
        if late:
            counts.by_hour[(local + 1) % 24] += late
    counts.days |= offsets.keys()
    return counts


def count(conn: Connection, clock: Clock, days: Sequence[date],
          codes: tuple[str, ...] | None, step: int) -> Counts:
    """The counts of `days` (sorted) from their tickets, in three grouped queries: per
    service and waiting time (the tickets by status, the waits' distribution, the service
    times' sum), per service and service time (their distribution), and per day and UTC
    hour of issue."""
    where: list[ColumnElement[bool]] = [_of_days(tickets.c.service_day, days)]
    if codes is not None:
        where.append(tickets.c.service_code.in_(codes))
    wait, service = tickets.c.wait_seconds, tickets.c.service_seconds
    wait_key = wait if step == 1 else wait // step
    service_key = service if step == 1 else service // step
    counts = Counts(step)
    for code, key, n, n_finished, n_no_show, wait_total, service_n, service_total in \
            conn.execute(
                select(tickets.c.service_code, wait_key, func.count(),
                       func.sum(case((FINISHED, 1), else_=0)),
                       func.sum(case((tickets.c.status == "no_show", 1), else_=0)),
                       func.sum(wait), func.count(case((FINISHED, service))),
                       func.sum(case((FINISHED, service))))
                .where(*where, ISSUED).group_by(tickets.c.service_code, wait_key)):
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
            .where(*where, FINISHED, service.is_not(None))
            .group_by(tickets.c.service_code, service_key)):
        counts.tally(code).service.counts[int(key)] += n
    _by_hour(conn, clock, days[0], where + [ISSUED], counts)
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


def _by_hour(conn: Connection, clock: Clock, first: date, where: list[ColumnElement[bool]],
             counts: Counts) -> None:
    """The tickets issued per local hour, and the days with any, into `counts`."""
    utc_hour = extract("hour", tickets.c.issued_at)
    columns: list[ColumnElement[Any]] = [tickets.c.service_day, utc_hour]
    # a zone off the whole hour (+05:30): which side of its half hour the ticket fell on
    part = _off_hour(clock, first)
    if part:
        columns.append(extract("minute", tickets.c.issued_at) >= 60 - part)
    offsets: dict[date, int] = {}  # minutes east of UTC, each service day
    for found in conn.execute(select(*columns, func.count()).where(*where).group_by(*columns)):
        day, hour, n = found[0], int(found[1]), int(found[-1])
        if day not in offsets:
            offsets[day] = _offset(clock, day)
        late = 1 if part and found[2] else 0
        counts.by_hour[((hour * 60 + offsets[day]) // 60 + late) % 24] += n
    counts.days |= offsets.keys()


def _offset(clock: Clock, day: date) -> int:
    """Minutes east of UTC at noon of the service day `day`."""
    at = clock.local(clock.day_start(day) + timedelta(hours=12)).utcoffset()
    return int((at or timedelta()).total_seconds() // 60)


def _off_hour(clock: Clock, day: date) -> int:
    """How many minutes the hall's zone is off the whole hour on `day` (India: 30)."""
    return _offset(clock, day) % 60


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _of_days(column: ColumnElement[date], days: Sequence[date]) -> ColumnElement[bool]:
    """`column` on one of `days` (sorted): a range when they follow each other."""
    if (days[-1] - days[0]).days == len(days) - 1:
        return (column >= days[0]) & (column <= days[-1])
    return column.in_(days)


# ----------------------------------------------------------------- the rollup, at a close

OPEN = ("pending", "waiting", "called")  # a day with such a ticket is not rolled up
ROLL_UP_CHUNK = 366  # days rolled up in one set of statements


def days_to_roll_up(conn: Connection, today: date) -> list[date]:
    """What a close at the start of `today` rolls up, from the hall's first ticket on: the
    day just ended (again if it was: a correction made since is seen), and every earlier
    day without a rollup — all of them in a database from before the rollup, the days the
    hub was down at their end, a day a ticket was left at a window. Days without tickets
    too: their rollup is empty, so the page need not look for their tickets."""
    yesterday = today - timedelta(days=1)
    first = conn.scalar(select(func.min(tickets.c.service_day)))
    if first is None or first > yesterday:  # no tickets before today: nothing to roll up
        return []
    day = history_days.c.service_day
    done = set(conn.scalars(select(day).where(day >= first, day < yesterday)))
    return [d for d in _days(first, yesterday - timedelta(days=1)) if d not in done] + [yesterday]


def roll_up_days(conn: Connection, days: Iterable[date], now: datetime) -> list[date]:
    """Write the rollup of `days` from their tickets, replacing what they had (a second
    close of a day never doubles it). A day with a ticket still open (pending, waiting or
    at a window) is left without one: counted from its tickets until a later close. The
    days rolled up."""
    wanted = sorted(set(days))
    done: list[date] = []
    for start in range(0, len(wanted), ROLL_UP_CHUNK):
        chunk = wanted[start:start + ROLL_UP_CHUNK]
        for table in (history_days, history_counts, history_times, history_hours):
            conn.execute(delete(table).where(table.c.service_day.in_(chunk)))
        still_open = set(conn.scalars(
            select(tickets.c.service_day).distinct()
            .where(tickets.c.service_day.in_(chunk), tickets.c.status.in_(OPEN))))
        settled = [d for d in chunk if d not in still_open]
        if settled:
            _write_rollup(conn, _of_days(tickets.c.service_day, settled))
            conn.execute(insert(history_days),
                         [{"service_day": d, "rolled_up_at": now} for d in settled])
            done += settled
    return done


def _write_rollup(conn: Connection, days: ColumnElement[bool]) -> None:
    """The rollup rows of the tickets of `days`, by the rules of `count`."""
    day, code = tickets.c.service_day, tickets.c.service_code
    wait, service = tickets.c.wait_seconds, tickets.c.service_seconds
    served = case((FINISHED, service))
    conn.execute(insert(history_counts).from_select(
        ["service_day", "service_code", "issued", "finished", "no_show", "waited", "wait_sum",
         "served", "service_sum"],
        select(day, code, func.count(), func.sum(case((FINISHED, 1), else_=0)),
               func.sum(case((tickets.c.status == "no_show", 1), else_=0)),
               func.count(wait), func.coalesce(func.sum(wait), 0),
               func.count(served), func.coalesce(func.sum(served), 0))
        .where(days, ISSUED).group_by(day, code)))
    # every wait and service time as (kind, minute, second within it), the minute as
    # `count` groups them: one row per day, service and minute for both
    times = union_all(*(
        select(day, code, literal(kind, String).label("kind"),
               (value // 60).label("minute"), cast(value % 60, String).label("second"))
        .where(days, which, value.is_not(None))
        for kind, value, which in (("wait", wait, ISSUED), ("service", service, FINISHED))
    )).subquery()
    is_wait = times.c.kind == "wait"
    conn.execute(insert(history_times).from_select(
        ["service_day", "service_code", "minute", "waited", "wait_within", "served",
         "service_within"],
        select(times.c.service_day, times.c.service_code, times.c.minute,
               func.count(case((is_wait, 1))),
               func.coalesce(func.aggregate_strings(case((is_wait, times.c.second)), " "), ""),
               func.count(case((~is_wait, 1))),
               func.coalesce(func.aggregate_strings(case((~is_wait, times.c.second)), " "), ""))
        .group_by(times.c.service_day, times.c.service_code, times.c.minute)))
    hour, at = extract("hour", tickets.c.issued_at), extract("minute", tickets.c.issued_at)
    conn.execute(insert(history_hours).from_select(
        ["service_day", "service_code", "utc_hour", "n", "from_15", "from_30", "from_45"],
        select(day, code, hour, func.count(),
               *(func.sum(case((at >= m, 1), else_=0)) for m in (15, 30, 45)))
        .where(days, ISSUED).group_by(day, code, hour)))
