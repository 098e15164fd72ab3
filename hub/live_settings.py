"""Settings managers change while the hall runs: the window–service matrix, the calendar,
the main screen's public information, the items' 一次性告知 and the issuing hours.

Each change is applied on the hub's request thread (`RequestConsumer.run`), in its own
transaction between two batches of requests, so no call sees half of it. The rules the
hub keeps in memory follow once it has committed, and every screen gets the state again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Connection, Engine, select

from hub import audit, hall_hours, hall_state, item_guides, item_setup, public_info, staff_admin
from hub.catalogue import Catalogue, Hours
from hub.clock import Clock
from hub.consumer import RequestConsumer
from hub.db.schema import calendar_overrides
from hub.hall_hours import Managed, Owner
from hub.issuing import HoursPlan, IssuingRules, when_text
from hub.item_guides import Item
from hub.pins import hash_pin
from hub.public_info import PublicInfo
from hub.staff_admin import Person, Posts
from hub.window_matrix import (
    MatrixChange,
    WindowServices,
    describe_matrix,
    read_matrix,
    set_window_services,
)
from hub.work_calendar import WorkCalendar, clear_override, set_overrides
from protocol.errors import ErrorCode, UserError
from protocol.messages import ServiceInfo

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

    # ------------------------------------------------------ 事项与办事指南 (一次性告知)

    def items(self, department: str | None = None) -> list[Item]:
        """The active items, of one department or all, with their 一次性告知."""
        with self.engine.connect() as conn:
            return item_guides.read_items(conn, department)

    def set_item_guide(self, code: str, conditions: list[str], materials: list[str],
                       legal_days: int | str, promised_days: int | str, fee: str,
                       who: str) -> ServiceInfo:
        """An item's 一次性告知 as a manager wrote it, shown at once on every kiosk; the
        catalogue file no longer changes it."""
        guide = item_guides.checked(conditions, materials, legal_days, promised_days, fee)
        return self.consumer.run(
            lambda conn: item_guides.write(conn, code, guide, who, self.clock.now()),
            after=self._show_item)

    def reset_item_guide(self, code: str, who: str) -> ServiceInfo:
        """Hand an item's 一次性告知 back to the catalogue file."""
        return self.consumer.run(
            lambda conn: item_guides.reset(conn, code, self.catalogue, who, self.clock.now()),
            after=self._show_item)

    def set_item_setup(self, code: str, name: str, prefix: str, daily_cap: str,
                       who: str) -> ServiceInfo:
        """An item's name, ticket letter and daily cap as a manager set them: the kiosks show
        the name at once, the next ticket takes the letter, the cap counts from now."""
        setup = item_setup.checked(name, prefix, daily_cap)
        return self.consumer.run(
            lambda conn: item_setup.write(conn, code, setup, who, self.clock.now()),
            after=lambda info: self._follow_setup(info, setup))

    def reset_item_setup(self, code: str, who: str) -> ServiceInfo:
        """Hand an item's name, letter and cap back to the catalogue file."""
        setup = item_setup.file_setup(self.catalogue, code)
        return self.consumer.run(
            lambda conn: item_setup.reset(conn, code, self.catalogue, who, self.clock.now()),
            after=lambda info: self._follow_setup(info, setup))

    def _follow_setup(self, info: ServiceInfo, setup: item_setup.ItemSetup) -> None:
        self.issuing.set_cap(info.code, setup.daily_cap)
        self._show_item(info)

    def _show_item(self, info: ServiceInfo) -> None:
        """Republish the catalogue state with this item's new 一次性告知, the rest as it is."""
        catalogue = self.consumer.catalogue
        assert catalogue is not None
        self.consumer.publish_catalogue(catalogue.model_copy(update={
            "services": [info if s.code == info.code else s for s in catalogue.services]}))

    # ------------------------------------------------------------------ 办公时间

    def hours(self) -> tuple[HoursPlan, dict[Owner, Managed]]:
        """The hours in force, and the managers' among them."""
        with self.engine.connect() as conn:
            managed = hall_hours.read(conn)
        return self.issuing.plan, managed

    def set_hours(self, owner: Owner, workday: str, weekend: str, holiday: str, who: str,
                  within_windows: bool = False) -> Hours:
        """The hall's, a window's or an item's hours as a manager typed them (one text per
        kind of day), in force for the next ticket and on every kiosk at once; the
        catalogue file no longer changes them. `within_windows`: an item's hours must lie
        within those of the windows that serve it (a department lead's change)."""
        hall_hours.owner_name(self.catalogue, owner)
        hours = hall_hours.checked(owner, workday, weekend, holiday)
        if within_windows and owner[0] == "item":
            wide = hall_hours.outside(hours, self.issuing.windows_hours(owner[1]))
            if wide is not None:
                raise UserError(ErrorCode.INVALID, f"beyond the windows' hours: {wide}",
                                f"{wide}超出了办理窗口的取号时间；部门负责人只能在窗口取号时间之内"
                                "设置本部门事项的时间，延长请联系大厅管理人员")
        self._change_hours(lambda conn: hall_hours.write(conn, self.catalogue, owner, hours,
                                                         who, self.clock.now()))
        return hours

    def follow_hours(self, owner: Owner, who: str) -> None:
        """A window (item) with no hours of its own any more: the hall's (its windows')."""
        self._change_hours(lambda conn: hall_hours.follow(conn, self.catalogue, owner, who,
                                                          self.clock.now()))

    def reset_hours(self, owner: Owner, who: str) -> None:
        """Hand an owner's hours back to the catalogue file."""
        self._change_hours(lambda conn: hall_hours.reset(conn, self.catalogue, owner, who,
                                                         self.clock.now()))

    def _change_hours(self, change: Callable[[Connection], dict[Owner, Managed]]) -> None:
        """Apply a change of hours; the rules follow once it has committed, and the queue
        state every kiosk reads (open, or "现在不在取号时间" and the next opening) is sent
        again at once (`run` republishes after every job)."""
        self.consumer.run(change, after=lambda managed: self.issuing.use_hours(
            hall_hours.plan(self.catalogue, managed)))

    def next_openings(self, codes: list[str]) -> list[tuple[str, str | None, str]]:
        """(item, until when it is issued now or None, its next opening in words) of these
        items, now."""
        local = self.clock.local(self.clock.now())
        found = []
        for code in codes:
            until = self.issuing.open_until(code, local)
            nxt = self.issuing.next_opening(code, until or local)
            found.append((code, None if until is None else f"{until:%H:%M}",
                          when_text(nxt, local) if nxt else "暂停取号"))
        return found

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

    # ------------------------------------------------------------ staff and A/B posts

    def staff_and_posts(self) -> tuple[list[Person], list[Posts], list[tuple[str, str]]]:
        """Everyone, every window's posts, and the departments (code, name)."""
        with self.engine.connect() as conn:
            return (staff_admin.list_staff(conn), staff_admin.list_posts(conn),
                    list(hall_state.departments(conn).items()))

    def add_staff(self, number: str, name: str, department: str, title: str, pin: str,
                  who: str) -> None:
        """A new member of staff with an initial PIN; theirs, not the catalogue file's."""
        pin_hash = hash_pin(staff_admin.check_pin_format(pin))  # slow: not on the hub's thread
        self.consumer.run(lambda conn: staff_admin.add_staff(
            conn, number, name, department, title, pin_hash, who, self.clock.now()))

    def edit_staff(self, number: str, name: str, department: str, title: str,
                   who: str) -> None:
        """Name, department, title; a window's screen shows them at once."""
        self.consumer.run(lambda conn: staff_admin.edit_staff(
            conn, number, name, department, title, who, self.clock.now()))

    def reset_staff_pin(self, number: str, pin: str, who: str) -> None:
        pin_hash = hash_pin(staff_admin.check_pin_format(pin))
        self.consumer.run(lambda conn: staff_admin.reset_pin(
            conn, number, pin_hash, who, self.clock.now()))

    def set_staff_active(self, number: str, active: bool, who: str) -> None:
        """Disable (no sign-in) or enable a member of staff."""
        self.consumer.run(lambda conn: staff_admin.set_active(
            conn, number, active, who, self.clock.now()))

    def set_window_posts(self, window: int, post_a: str | None, post_b: str | None,
                         who: str) -> None:
        """A window's A and B posts, from the next sign-in on; theirs, not the file's."""
        self.consumer.run(lambda conn: staff_admin.set_posts(
            conn, window, post_a, post_b, who, self.clock.now()))

    def reset_window_posts(self, window: int, who: str) -> tuple[str | None, str | None]:
        """Hand a window's posts back to the catalogue file; its (A, B)."""
        row = next((w for w in self.catalogue.windows if w.number == window), None)
        if row is None:
            raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {window} not in the catalogue",
                            f"{window}号窗口不在目录文件中")
        self.consumer.run(lambda conn: staff_admin.set_posts(
            conn, window, row.post_a, row.post_b, who, self.clock.now(), from_file=True))
        return row.post_a, row.post_b
