"""Whether a ticket may be issued now: service hours and the daily cap (放号量).

Hours are spans on working days and on days off (Chinese working days, see
hub/work_calendar.py); outside them the refusal names the next opening. The cap
counts kiosk tickets of the service today; the guide desk may still issue
(manual service stays, 国办发〔2020〕45号). Tickets issued before closing are
still served after it (延时服务制): only issuing stops.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hub.catalogue import Catalogue, Hours
from hub.work_calendar import WorkCalendar

WEEKDAYS_ZH = "一二三四五六日"


def _spans(hours: Hours, day: date, calendar: WorkCalendar) -> list[tuple[time, time]]:
    raw = hours.workday if calendar.is_workday(day) else hours.day_off
    spans = []
    for span in raw:
        start, end = span.split("-")
        spans.append((time.fromisoformat(start), time.fromisoformat(end)))
    return sorted(spans)


class IssuingRules:
    """Hours and caps per service, from the catalogue."""

    def __init__(self, catalogue: Catalogue, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.hall_hours = catalogue.hours
        self.hours = {s.code: s.hours for s in catalogue.all_services() if s.hours is not None}
        self.caps = {s.code: s.daily_cap for s in catalogue.all_services()
                     if s.daily_cap is not None}

    def is_open(self, service: str, local_now: datetime) -> bool:
        """Tickets for `service` may be issued at this local time."""
        hours = self.hours.get(service, self.hall_hours)
        now = local_now.time()
        return any(a <= now < b for a, b in _spans(hours, local_now.date(), self.calendar))

    def next_opening(self, service: str, local_now: datetime) -> datetime | None:
        """The next local time tickets are issued, within four weeks; None if never."""
        hours = self.hours.get(service, self.hall_hours)
        for days in range(29):
            day = local_now.date() + timedelta(days=days)
            for start, _ in _spans(hours, day, self.calendar):
                at = datetime.combine(day, start, local_now.tzinfo)
                if at > local_now:
                    return at
        return None

    def closed_message(self, service: str, local_now: datetime) -> str:
        """不在取号时间, with the next opening time in words a citizen reads at a glance."""
        nxt = self.next_opening(service, local_now)
        if nxt is None:
            return "该事项暂停取号，请到导办台咨询"
        if nxt.date() == local_now.date():
            when = f"今天{nxt:%H:%M}"
        elif nxt.date() == local_now.date() + timedelta(days=1):
            when = f"明天{nxt:%H:%M}"
        else:
            when = f"{nxt.month}月{nxt.day}日（周{WEEKDAYS_ZH[nxt.weekday()]}）{nxt:%H:%M}"
        return f"现在不在取号时间，下次取号时间：{when}"

    def cap(self, service: str) -> int | None:
        return self.caps.get(service)
