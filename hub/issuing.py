"""Whether a ticket may be issued now: service hours and the daily cap (放号量).

Hours are spans on working days, weekends (双休日) and statutory holidays (Chinese
working days, see hub/work_calendar.py); outside them the refusal names the next
opening. An item's hours are its own when the catalogue sets them; otherwise those of
the windows that serve it: an item is issued while any of its windows is in hours, so a
weekend duty window (双休日服务制) opens its items on Saturdays and nothing else. The cap
counts kiosk tickets of the service today (the database's cap: the file's, or a manager's from
the dashboard, hub/item_setup.py); the guide desk may still issue (manual service
stays, 国办发〔2020〕45号). Tickets issued before closing are still served after it
(延时服务制): only issuing stops. Managers change the hours while the hall runs (/hours,
hub/hall_hours.py): `use_hours` puts the new plan in place at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hub.catalogue import Catalogue, Hours
from hub.work_calendar import WorkCalendar

WEEKDAYS_ZH = "一二三四五六日"
Spans = list[tuple[time, time]]


def parse_spans(raw: Sequence[str]) -> Spans:
    """["08:30-12:00", …] as (start, end) times."""
    spans = []
    for span in raw:
        start, end = span.split("-")
        spans.append((time.fromisoformat(start), time.fromisoformat(end)))
    return spans


def _spans(hours: Hours, day: date, calendar: WorkCalendar) -> Spans:
    kind = calendar.day_kind(day)
    return parse_spans({"workday": hours.workday, "weekend": hours.weekend,
                        "holiday": hours.holiday}[kind])


@dataclass(frozen=True)
class HoursPlan:
    """Whose hours are what: the hall's, and those of the windows and items with their own."""

    hall: Hours
    windows: Mapping[int, Hours]
    items: Mapping[str, Hours]

    @classmethod
    def of(cls, catalogue: Catalogue) -> HoursPlan:
        """The catalogue file's hours."""
        return cls(catalogue.hours,
                   {w.number: w.hours for w in catalogue.windows if w.hours is not None},
                   {s.code: s.hours for s in catalogue.all_services() if s.hours is not None})


def when_text(at: datetime, local_now: datetime) -> str:
    """A coming local time as a citizen reads it: 今天14:00, 明天08:30, 11月30日（周一）08:30."""
    if at.date() == local_now.date():
        return f"今天{at:%H:%M}"
    if at.date() == local_now.date() + timedelta(days=1):
        return f"明天{at:%H:%M}"
    return f"{at.month}月{at.day}日（周{WEEKDAYS_ZH[at.weekday()]}）{at:%H:%M}"


class IssuingRules:
    """Hours and caps per service, from the catalogue (or the managers' hours) and the live
    window–service matrix."""

    def __init__(self, catalogue: Catalogue, calendar: WorkCalendar,
                 matrix: dict[int, list[str]] | None = None,
                 plan: HoursPlan | None = None, caps: dict[str, int] | None = None) -> None:
        self.calendar = calendar
        self.plan = plan or HoursPlan.of(catalogue)
        self.caps = caps if caps is not None else {
            s.code: s.daily_cap for s in catalogue.all_services() if s.daily_cap is not None}
        self.windows_of: dict[str, list[int]] = {}
        self.use_matrix(matrix if matrix is not None
                        else {w.number: w.services for w in catalogue.windows})

    def use_matrix(self, matrix: dict[int, list[str]]) -> None:
        """Follow a changed window–service matrix (replaced whole: other threads read it)."""
        windows_of: dict[str, list[int]] = {}
        for window, services in sorted(matrix.items()):
            for code in services:
                windows_of.setdefault(code, []).append(window)
        self.windows_of = windows_of

    def use_hours(self, plan: HoursPlan) -> None:
        """Follow the hours a manager changed (replaced whole: other threads read them)."""
        self.plan = plan

    def _hours(self, service: str) -> list[Hours]:
        plan = self.plan  # one plan for the whole answer, whatever a manager does meanwhile
        if service in plan.items:
            return [plan.items[service]]
        return self.windows_hours(service, plan)

    def windows_hours(self, service: str, plan: HoursPlan | None = None) -> list[Hours]:
        """The hours of the windows that serve `service` (the hall's when none serves it),
        its own aside."""
        plan = plan or self.plan
        windows = self.windows_of.get(service)
        if not windows:
            return [plan.hall]
        return [plan.windows.get(w, plan.hall) for w in windows]

    def spans(self, service: str, day: date) -> Spans:
        """When tickets for `service` are issued on `day`: the spans of all its hours,
        joined where they overlap or touch (a duty window open through the hall's lunch
        break keeps the item open through it; booking slots are cut once)."""
        distinct = {id(h): h for h in self._hours(service)}.values()  # most share the hall's
        joined: Spans = []
        for start, end in sorted({s for h in distinct for s in _spans(h, day, self.calendar)}):
            if joined and start <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
            else:
                joined.append((start, end))
        return joined

    def open_until(self, service: str, local_now: datetime) -> datetime | None:
        """When the span issuing `service` now ends; None when it is not issued now."""
        now = local_now.time()
        return next((datetime.combine(local_now.date(), b, local_now.tzinfo)
                     for a, b in self.spans(service, local_now.date()) if a <= now < b), None)

    def is_open(self, service: str, local_now: datetime) -> bool:
        """Tickets for `service` may be issued at this local time."""
        return self.open_until(service, local_now) is not None

    def next_opening(self, service: str, local_now: datetime) -> datetime | None:
        """The next local time tickets are issued, within four weeks; None if never."""
        for days in range(29):
            day = local_now.date() + timedelta(days=days)
            for start, _ in self.spans(service, day):
                at = datetime.combine(day, start, local_now.tzinfo)
                if at > local_now:
                    return at
        return None

    def closed_message(self, service: str, local_now: datetime) -> str:
        """不在取号时间, with the next opening time in words a citizen reads at a glance."""
        nxt = self.next_opening(service, local_now)
        if nxt is None:
            return "该事项暂停取号，请到导办台咨询"
        return f"现在不在取号时间，下次取号时间：{when_text(nxt, local_now)}"

    def set_cap(self, service: str, cap: int | None) -> None:
        """Follow a cap a manager changed (replaced whole: other threads read it)."""
        caps = {code: n for code, n in self.caps.items() if code != service}
        if cap is not None:
            caps[service] = cap
        self.caps = caps

    def cap(self, service: str) -> int | None:
        return self.caps.get(service)
