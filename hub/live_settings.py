"""Settings managers change while the hall runs: the window–service matrix and the calendar.

Each change is applied on the hub's request thread (`RequestConsumer.run`), in its own
transaction between two batches of requests, so no call sees half of it. The rules the
hub keeps in memory follow once it has committed, and every screen gets the state again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Connection, Engine, select

from hub import audit, public_info
from hub.catalogue import Catalogue
from hub.clock import Clock
from hub.consumer import RequestConsumer
from hub.db.schema import calendar_overrides
from hub.issuing import IssuingRules
from hub.public_info import PublicInfo
from hub.window_matrix import (
    MatrixChange,
    WindowServices,
    describe_matrix,
    read_matrix,
    set_window_services,
)
from hub.work_calendar import WorkCalendar, clear_override, set_overrides
from protocol.errors import ErrorCode, UserError

MatrixResult = tuple[MatrixChange, dict[int, list[str]]]


class LiveSettings:
    """What the settings API and `./hallq admin` change, applied safely to a running hub."""

    def __init__(self, engine: Engine, consumer: RequestConsumer, catalogue: Catalogue,
                 calendar: WorkCalendar, issuing: IssuingRules, clock: Clock) -> None:
        self.engine = engine
        self.consumer = consumer
        self.catalogue = catalogue
        self.calendar = calendar
        self.issuing = issuing
        self.clock = clock

    # ---------------------------------------------------- window–service matrix

    def matrix(self) -> list[WindowServices]:
        with self.engine.connect() as conn:
            return describe_matrix(conn)

    def set_window_services(self, window: int, codes: list[str], who: str) -> MatrixChange:
        """Give a window exactly these services, from the next call on."""
        now = self.clock.now()
        return self._change_matrix(lambda conn: set_window_services(conn, window, codes, now),
                                   window, who, "matrix.set")

    def reset_window_services(self, window: int, who: str) -> MatrixChange:
        """Hand a window's services back to the catalogue file."""
        row = next((w for w in self.catalogue.windows if w.number == window), None)
        if row is None:
            raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {window} not in the catalogue")
        codes = row.services
        return self._change_matrix(lambda conn: set_window_services(conn, window, codes, None),
                                   window, who, "matrix.reset")

    def _change_matrix(self, change: Callable[[Connection], MatrixChange], window: int,
                       who: str, action: str) -> MatrixChange:
        def job(conn: Connection) -> MatrixResult:
            before = read_matrix(conn).get(window, [])
            done = change(conn)
            after = read_matrix(conn)
            audit.record(conn, self.clock.now(), who, action, f"window {window}",
                         {"services": before}, {"services": after.get(window, [])})
            return done, after

        done, _ = self.consumer.run(job, after=lambda r: self.issuing.use_matrix(r[1]))
        return done

    # ------------------------------------------------------------ public information

    def public_info(self) -> PublicInfo:
        catalogue = self.consumer.catalogue
        assert catalogue is not None
        return PublicInfo(catalogue.complaint_phone, tuple(catalogue.notices))

    def set_public_info(self, phone: str, notices: list[str], who: str) -> PublicInfo:
        """The main screen's complaint line and notices, shown at once on every screen."""
        info = public_info.checked(phone, notices)
        before = self.public_info()

        def job(conn: Connection) -> PublicInfo:
            public_info.write(conn, info, before, who, self.clock.now())
            return info

        def show(done: PublicInfo) -> None:
            catalogue = self.consumer.catalogue
            assert catalogue is not None
            self.consumer.publish_catalogue(catalogue.model_copy(update={
                "complaint_phone": done.complaint_phone, "notices": list(done.notices)}))
        return self.consumer.run(job, after=show)

    # ---------------------------------------------------------------- calendar

    def calendar_days(self, year: int | None = None) -> list[tuple[date, bool, str]]:
        """Managers' days (day, is working day, note), of one year or all."""
        query = select(calendar_overrides.c.day, calendar_overrides.c.is_workday,
                       calendar_overrides.c.note).order_by(calendar_overrides.c.day)
        if year is not None:
            query = query.where(calendar_overrides.c.day.between(date(year, 1, 1),
                                                                 date(year, 12, 31)))
        with self.engine.connect() as conn:
            return [(d, bool(w), n) for d, w, n in conn.execute(query)]

    def set_calendar_days(self, days: dict[date, tuple[bool, str]], who: str) -> None:
        """Enter holidays (off) and 调休 days (working) all at once, or none."""
        def job(conn: Connection) -> dict[date, bool]:
            overrides = set_overrides(conn, days)
            audit.record(conn, self.clock.now(), who, "calendar.set",
                         f"{min(days)}..{max(days)}" if len(days) > 1 else str(min(days)),
                         None, {d.isoformat(): ("上班" if w else "放假") + (f" {n}" if n else "")
                                for d, (w, n) in sorted(days.items())[:20]})
            return overrides
        self.consumer.run(job, after=self._follow)

    def clear_calendar_day(self, day: date, who: str) -> None:
        """Let the national calendar decide `day` again."""
        def job(conn: Connection) -> dict[date, bool]:
            overrides = clear_override(conn, day)
            audit.record(conn, self.clock.now(), who, "calendar.clear", day.isoformat(),
                         None, None)
            return overrides
        self.consumer.run(job, after=self._follow)

    def _follow(self, overrides: dict[date, bool]) -> None:
        self.calendar.overrides = overrides
