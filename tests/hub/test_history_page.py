"""今日与历史 (/history) on a fixture day counted by hand: the figures per service and in
total, the hours chart and the distributions, a department lead's own services only, the
Excel file with the same numbers, and bad query strings answered in Chinese.

The fixture day, Monday 23 November 2026 (local times; waits and service times in
seconds), on 户口迁移 (GA_HJQY, 县公安局) and 社会保障卡申领 (RS_SBKSL, 县人力资源和社会保障局):

    ticket  issued  status    wait         service
    A001    08:40   finished   600 (10:00)  600 (10:00)
    A002    09:05   finished   720 (12:00) 1080 (18:00)
    A003    09:20   no_show   1800 (30:00)
    A004    10:05   finished   240 (4:00)   720 (12:00)
    A005    14:05   finished   900 (15:00)  840 (14:00)
    B001    09:30   finished   120 (2:00)   360 (6:00)
    B002    09:45   finished  3900 (65:00)  600 (10:00)
    B003    10:20   no_show   3600 (60:00)
    B004    10:40   closed    (never called: left at closing)
    B005    14:30   finished   540 (9:00)   720 (12:00)
    B006    14:50   void      (never taken from the kiosk: not counted)

- 户口迁移: 5 issued, 4 finished, 1 no-show (20.0 %), 0 unfinished; waits 240, 600, 720,
  900, 1800: average 4260/5 = 852 s = 14.2 min, P90 the 5th (⌈4.5⌉) = 1800 s = 30.0 min;
  service 600, 720, 840, 1080: average 3240/4 = 810 s = 13.5 min, P90 the 4th (⌈3.6⌉)
  = 1080 s = 18.0 min.
- 社会保障卡申领: 5 issued, 3 finished, 1 no-show (20.0 %), 1 unfinished (B004); waits 120,
  540, 3600, 3900: average 8160/4 = 2040 s = 34.0 min, P90 the 4th = 3900 s = 65.0 min;
  service 360, 600, 720: average 1680/3 = 560 s = 9.3 min, P90 the 3rd = 720 s = 12.0 min.
- Total: 10 issued, 7 finished, 2 no-shows, 1 unfinished; 9 waits summing to 12420 s:
  average 1380 s = 23.0 min, P90 the 9th (⌈8.1⌉) = 3900 s = 65.0 min; 7 service times
  summing to 4920 s: average 702.9 s = 11.7 min, P90 the 7th (⌈6.3⌉) = 1080 s = 18.0 min.
- Issued per hour: 8时 1 (A001), 9时 4 (A002 A003 B001 B002), 10时 3 (A004 B003 B004),
  14时 2 (A005 B005): the busiest three are 9, 10 and 14时, not 8时.
- Waits in 5-minute bars: 0–5: 2 (240, 120), 5–10: 1 (540), 10–15: 2 (600, 720), 15–20: 1
  (900), 30–35: 1 (1800), 60 and over: 2 (3600, 3900). Service times: 5–10: 1 (360),
  10–15: 5 (600, 600, 720, 720, 840), 15–20: 1 (1080).

One more day, Friday 20 November: A001 issued 09:10, finished, wait 300, service 600.
Over 20–23 November (4 days, tickets on 2) each hour is averaged over the 2 days:
8时 0.5, 9时 2.5, 10时 1.5, 14时 1.0.

The hub's clock is at Tuesday 24 November. Every test on the fixture runs three ways: the
past days rolled up by the hub's close (hub/day_close.py), none rolled up (counted from
the tickets, as in a database from before the rollup), and Friday alone rolled up (a
period from both). The figures are the same each way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect
from sqlalchemy import Connection, func, insert, select, update

from hub.app import Hub
from hub.clock import Clock, ShiftedClock
from hub.day_close import close_past_days
from hub.db.schema import history_counts, history_days, history_hours, history_times, tickets
from hub.history_figures import (
    Period,
    count,
    from_rollup,
    history,
    roll_up_days,
    rolled_up,
    service_list,
)
from tests.helpers import make_account, signed_in_client
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in

DAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 20)
TODAY = date(2026, 11, 24)  # the hub's clock
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Past:
    """A ticket of a past day as the hub leaves it; times local, durations in seconds."""

    number: str
    service: str
    issued: str  # HH:MM
    status: str
    wait: int | None = None
    service_s: int | None = None
    day: date = DAY


FIXTURE = [
    Past("A001", "GA_HJQY", "08:40", "finished", 600, 600),
    Past("A002", "GA_HJQY", "09:05", "finished", 720, 1080),
    Past("A003", "GA_HJQY", "09:20", "no_show", 1800),
    Past("A004", "GA_HJQY", "10:05", "finished", 240, 720),
    Past("A005", "GA_HJQY", "14:05", "finished", 900, 840),
    Past("B001", "RS_SBKSL", "09:30", "finished", 120, 360),
    Past("B002", "RS_SBKSL", "09:45", "finished", 3900, 600),
    Past("B003", "RS_SBKSL", "10:20", "no_show", 3600),
    Past("B004", "RS_SBKSL", "10:40", "closed"),
    Past("B005", "RS_SBKSL", "14:30", "finished", 540, 720),
    Past("B006", "RS_SBKSL", "14:50", "void"),
    Past("A001", "GA_HJQY", "09:10", "finished", 300, 600, day=FRIDAY),
]


def utc(day: date, hh_mm: str, zone: ZoneInfo = ZONE) -> datetime:
    hour, minute = map(int, hh_mm.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def write_tickets(conn: Connection, past: Iterable[Past], zone: ZoneInfo = ZONE) -> None:
    """The tickets straight into the hub's database, with the times the hub would set."""
    rows = []
    for i, p in enumerate(past):
        issued = utc(p.day, p.issued, zone)
        called = None if p.wait is None else issued + timedelta(seconds=p.wait)
        finished = (called + timedelta(seconds=p.service_s)
                    if called is not None and p.service_s is not None else None)
        rows.append({
            "request_id": f"history-{p.day}-{p.number}-{i}", "device_id": "history",
            "service_code": p.service, "prefix": p.number[0], "seq": int(p.number[1:]),
            "number": p.number, "service_day": p.day, "status": p.status, "issued_at": issued,
            "called_at": called, "finished_at": finished, "wait_seconds": p.wait,
            "service_seconds": p.service_s, "recalls": 2 if p.status == "no_show" else 0,
            "no_show_at": called + timedelta(minutes=3) if p.status == "no_show" else None})
    conn.execute(insert(tickets), rows)


def started(hub: Hub) -> Hub:
    """The hub once its thread has done the close of its start (before any job it runs):
    tickets written after it are not rolled up but by a close of the test's own."""
    hub.consumer.run(lambda conn: None)
    return hub


def close(hub: Hub, today: date = TODAY) -> None:
    """The hub's end of the day before `today`, as at midnight or at its start."""
    with hub.engine.begin() as conn:
        close_past_days(conn, today, hub.clock.now())


@pytest.fixture(params=["rolled up", "from tickets", "friday rolled up"])
def day_hub(hub: Hub, request: pytest.FixtureRequest) -> Hub:
    started(hub)
    with hub.engine.begin() as conn:
        write_tickets(conn, FIXTURE)
        if request.param == "friday rolled up":
            roll_up_days(conn, [FRIDAY], hub.clock.now())
    if request.param == "rolled up":
        close(hub)
    with hub.engine.connect() as conn:
        rolled = rolled_up(conn, Period(FRIDAY, DAY))
    assert rolled == {"rolled up": {FRIDAY, FRIDAY + timedelta(days=1),
                                    FRIDAY + timedelta(days=2), DAY},
                      "from tickets": set(), "friday rolled up": {FRIDAY}}[request.param]
    return hub


def cells(html: str, key: str) -> list[str]:
    """The texts of the table row of `key` (a service code, or "total")."""
    found = re.search(rf'<tr class="[^"]*" data-key="{key}">(.*?)</tr>', html, re.S)
    assert found, f"no row {key}"
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def chart(html: str, title_starts: str) -> str:
    found = re.search(rf'<svg[^>]*aria-label="{title_starts}[^"]*">.*?</svg>', html, re.S)
    assert found, f"no chart {title_starts}"
    return found.group(0)


def bar_heights(svg: str) -> list[float]:
    return [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)" class="chart-bar', svg)]


def busy(svg: str) -> list[int]:
    classes = re.findall(r'<rect [^>]*class="(chart-bar[^"]*)"', svg)
    return [i for i, c in enumerate(classes) if "chart-busy" in c]


def figure(html: str, name: str) -> str:
    found = re.search(rf'id="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


GA = ["县公安局", "户口迁移", "5", "4", "1", "20.0%", "0", "14.2", "30.0", "13.5", "18.0"]
RS = ["县人力资源和社会保障局", "社会保障卡申领", "5", "3", "1", "20.0%", "1", "34.0", "65.0",
      "9.3", "12.0"]


def test_a_day_per_service_and_in_total(day_hub: Hub) -> None:
    answer = signed_in_client(day_hub).get(f"/history?day={DAY}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "2026年11月23日（星期一） · 全大厅" in html
    assert cells(html, "GA_HJQY") == GA
    assert cells(html, "RS_SBKSL") == RS
    assert cells(html, "total") == ["", "全大厅合计", "10", "7", "2", "20.0%", "1", "23.0",
                                    "65.0", "11.7", "18.0"]
    assert [figure(html, n) for n in ("issued", "finished", "no-show", "wait-avg", "wait-p90",
                                      "service-avg")] == ["10", "7", "2", "23.0", "65.0", "11.7"]
    assert "今天的数字截至" not in html  # a past day is complete
    assert html.index("户口迁移") < html.index("社会保障卡申领") < html.index("全大厅合计")

    hours = chart(html, "各时段取号量")
    heights = bar_heights(hours)
    assert len(heights) == 10, "08:00–18:00, an hour a bar"
    one = heights[0]  # 8时: 1 ticket
    assert one > 0
    assert heights == pytest.approx([one, 4 * one, 3 * one, 0, 0, 0, 2 * one, 0, 0, 0])
    assert busy(hours) == [1, 2, 6], "9, 10 and 14时 highlighted, not 8时"
    assert ">8–9时<" in hours and ">17–18时<" in hours
    assert "取号最多的时段：<strong>9:00–10:00</strong>（4 张）" in html

    waits = chart(html, "等候时长分布")
    assert "共9人" in waits
    w = bar_heights(waits)
    unit = w[1]
    assert len(w) == 13 and unit > 0
    assert w == pytest.approx([2 * unit, unit, 2 * unit, unit, 0, 0, unit, 0, 0, 0, 0, 0,
                               2 * unit])
    assert ">60以上<" in waits
    service = chart(html, "办理时长分布")
    assert "共7件" in service
    s = bar_heights(service)
    assert s == pytest.approx([0, s[1], 5 * s[1], s[1]] + [0] * 9)


def test_a_period_averages_the_days_with_tickets(day_hub: Hub) -> None:
    web = signed_in_client(day_hub)
    html = web.get(f"/history?from={FRIDAY}&to={DAY}").get_data(as_text=True)
    assert "2026年11月20日—2026年11月23日（4天）" in html
    hours = chart(html, "各时段日均取号量（4天中有取号的2天平均）")
    assert [v for v in re.findall(r'class="chart-value">([\d.]+)<', hours)] == \
        ["0.5", "2.5", "1.5", "1.0"]
    assert figure(html, "issued") == "11"
    # 户口迁移 with Friday's A001 (wait 300, service 600): waits 240 300 600 720 900 1800
    assert cells(html, "GA_HJQY")[2:] == ["6", "5", "1", "16.7%", "0", "12.7", "30.0", "12.8",
                                          "18.0"]
    # over more than 31 days the times go by the minute: a P90 is the end of its minute
    year = web.get(f"/history?from=2026-01-01&to={DAY}").get_data(as_text=True)
    assert "按整分钟计" in year
    assert figure(year, "wait-avg") == "21.2"  # 12720 s over 10 waits: averages stay exact
    assert figure(year, "wait-p90") == "61.0"  # the 9th of 10 is 3600 s, in minute 60


def test_one_service_and_a_department_lead(day_hub: Hub) -> None:
    html = signed_in_client(day_hub).get(
        f"/history?day={DAY}&service=RS_SBKSL").get_data(as_text=True)
    assert cells(html, "RS_SBKSL") == RS
    assert 'data-key="GA_HJQY"' not in html
    assert "县人力资源和社会保障局 · 社会保障卡申领" in html

    lead = signed_in_client(day_hub, "li", "department", "GA")
    page = lead.get(f"/history?day={DAY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert cells(html, "GA_HJQY") == GA
    assert cells(html, "total")[1:3] == ["本部门合计", "5"]
    assert "社会保障卡申领" not in html and "人力资源" not in html, "not in the table nor the menu"
    assert "县公安局" in html and "本部门全部事项" in html
    heights = bar_heights(chart(html, "各时段取号量"))
    assert heights == pytest.approx([heights[0], 2 * heights[0], heights[0], 0, 0, 0,
                                     heights[0], 0, 0, 0])
    other = lead.get(f"/history?day={DAY}&service=RS_SBKSL")
    assert other.status_code == 403
    assert "您只能查看本部门的事项" in other.get_data(as_text=True)
    assert lead.get(f"/history.xlsx?day={DAY}&service=RS_SBKSL").status_code == 403
    book = load_workbook(BytesIO(lead.get(f"/history.xlsx?day={DAY}").data))
    names = [c.value for c in book["取号与等候"]["B"]]
    assert "户口迁移" in names and "社会保障卡申领" not in names


def test_the_excel_file_has_the_same_numbers(day_hub: Hub) -> None:
    web = signed_in_client(day_hub)
    html = web.get(f"/history?day={DAY}").get_data(as_text=True)
    assert f'href="/history.xlsx?day={DAY}"' in html
    answer = web.get(f"/history.xlsx?day={DAY}")
    assert answer.status_code == 200
    assert "filename*=UTF-8''" in answer.headers["Content-Disposition"]
    book = load_workbook(BytesIO(answer.data))
    assert book.sheetnames == ["取号与等候", "各时段取号", "等候时长分布", "办理时长分布"]
    sheet = book["取号与等候"]
    assert sheet["A1"].value == "示范县政务服务中心取号、等候与办理情况"
    assert str(sheet["A2"].value).startswith("2026年11月23日（星期一） · 全大厅 · 制表时间：")
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=6)]
    assert rows[0] == ["县公安局", "户口迁移", 5, 4, 1, 0.2, 0, 14.2, 30.0, 13.5, 18.0]
    assert rows[1] == ["县人力资源和社会保障局", "社会保障卡申领", 5, 3, 1, 0.2, 1, 34.0, 65.0,
                       9.3, 12.0]
    assert rows[2] == [None, "全大厅合计", 10, 7, 2, 0.2, 1, 23.0, 65.0, 11.7, 18.0]
    assert sheet["F4"].number_format == "0.0%"
    hours = book["各时段取号"]
    by_hour = {r[0].value: r[1].value for r in hours.iter_rows(min_row=4, max_row=13)}
    assert by_hour["8:00–9:00"] == 1 and by_hour["9:00–10:00"] == 4
    assert by_hour["10:00–11:00"] == 3 and by_hour["14:00–15:00"] == 2
    assert sum(by_hour.values()) == 10
    assert len(hours._charts) == 1
    waits = [r[1].value for r in book["等候时长分布"].iter_rows(min_row=4, max_row=16)]
    assert waits == [2, 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2]


@pytest.mark.parametrize(("query", "says"), [
    ("day=nonsense", "日期“nonsense”不是有效的日期"),
    ("from=2026-11-23&to=2026-11-20", "开始日期（2026-11-23）晚于结束日期（2026-11-20）"),
    ("from=2025-11-22&to=2026-11-23", "查询时段最长366天（一年），所选时段为367天"),
    ("from=2026-13-01&to=2026-11-23", "开始日期“2026-13-01”不是有效的日期"),
    ("day=2026-11-23&service=NOPE", "没有编码为“NOPE”的事项"),
])
@pytest.mark.parametrize("day_hub", ["rolled up"], indirect=True)  # the figures: above
def test_a_bad_query_is_answered_in_chinese(day_hub: Hub, query: str, says: str) -> None:
    web = signed_in_client(day_hub)
    for path in ("/history", "/history.xlsx"):
        answer = web.get(f"{path}?{query}")
        assert answer.status_code == 400, (path, query)
        html = answer.get_data(as_text=True)
        assert says in html, html
        assert '<p class="error">' in html and "<form" in html  # the chooser to try again
    assert web.get("/history?from=2025-11-23&to=2026-11-23").status_code == 200  # 366 days


def test_today_by_default(day_hub: Hub) -> None:
    html = signed_in_client(day_hub).get("/history").get_data(as_text=True)
    assert "2026年11月24日（星期二） · 全大厅" in html and "今天的数字截至 09:0" in html
    assert figure(html, "issued") == "0" and "所选时段没有取号" in html
    assert "« 前一天" in html and "后一天 »" not in html


def test_the_past_is_counted_once_and_today_live(day_hub: Hub) -> None:
    """The days before today come from their rollup (or their tickets); today's tickets
    show at once."""
    web = signed_in_client(day_hub)
    today = date(2026, 11, 24)
    query = f"/history?from={DAY}&to={today}"
    assert figure(web.get(query).get_data(as_text=True), "issued") == "10"
    with day_hub.engine.begin() as conn:
        write_tickets(conn, [Past("A001", "GA_HJQY", "08:45", "waiting", day=today)])
    html = web.get(query).get_data(as_text=True)
    assert figure(html, "issued") == "11" and "今天的数字截至" in html
    assert cells(html, "GA_HJQY")[2:7] == ["6", "4", "1", "16.7%", "1"]
    assert figure(web.get("/history").get_data(as_text=True), "issued") == "1"


def test_hours_in_a_zone_off_the_whole_hour(hub: Hub) -> None:
    """India (+05:30): 08:50 and 09:10 local are 03:20 and 03:40 UTC, one UTC hour apart
    from neither; each must land in its own local hour."""
    kolkata = ZoneInfo("Asia/Kolkata")
    started(hub)
    with hub.engine.begin() as conn:
        write_tickets(conn, [Past("A001", "GA_HJQY", "08:50", "closed"),
                             Past("A002", "GA_HJQY", "09:10", "closed"),
                             Past("A003", "GA_HJQY", "09:40", "closed")], kolkata)
        found = history(conn, Clock("Asia/Kolkata"), Period(DAY, DAY), service_list(conn),
                        True)
    assert dict(zip(found.hours, found.issued_by_hour, strict=True))[8] == 1
    assert dict(zip(found.hours, found.issued_by_hour, strict=True))[9] == 2

    # the same from the day's rollup, which keeps UTC hours and their halves
    kolkata_clock = ShiftedClock("Asia/Kolkata", datetime(2026, 11, 24, 9, 0))
    with hub.engine.begin() as conn:
        assert roll_up_days(conn, [DAY], hub.clock.now()) == [DAY]
    with hub.engine.connect() as conn:
        rolled = history(conn, kolkata_clock, Period(DAY, DAY), service_list(conn), True)
    assert rolled == found


def test_the_rollup_matches_the_live_count(hub: Hub) -> None:
    """What a day's rollup gives is what its tickets give, to the second and to the
    minute, for the hall and for some services, in Shanghai and off the whole hour."""
    more = [Past("C001", "GA_HJQY", "07:59", "finished", 7, 4000),  # before 8, an hour over
            Past("C002", "GA_HJQY", "17:45", "no_show", 59),
            Past("C003", "RS_SBKSL", "11:15", "called", 61),  # at a window at closing
            Past("C004", "RS_SBKSL", "11:30", "pending"),
            Past("C005", "RS_SBKSL", "12:00", "waiting")]
    started(hub)
    with hub.engine.begin() as conn:
        write_tickets(conn, FIXTURE + more)
        conn.execute(update(tickets).where(tickets.c.number == "C003")
                     .values(status="finished", service_seconds=1))
        assert roll_up_days(conn, [FRIDAY, DAY], hub.clock.now()) == [FRIDAY]  # C004, C005
        conn.execute(update(tickets).where(tickets.c.number.in_(("C004", "C005")))
                     .values(status="void"))
        assert roll_up_days(conn, [FRIDAY, DAY], hub.clock.now()) == [FRIDAY, DAY]
    with hub.engine.connect() as conn:
        for zone in ("Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"):
            clock = Clock(zone)
            for days in ([DAY], [FRIDAY, DAY], [FRIDAY + timedelta(days=i) for i in range(4)]):
                for codes in (None, ("RS_SBKSL",), ("GA_HJQY", "RS_SBKSL")):
                    for step in (1, 60):
                        rolled = from_rollup(conn, clock, Period(days[0], days[-1]), codes, step)
                        live = count(conn, clock, days, codes, step)
                        assert rolled == live, (zone, days, codes, step)
                        assert rolled.tallies, "something was counted"


def rows_of_the_rollup(hub: Hub) -> dict[str, int]:
    with hub.engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in (history_days, history_counts, history_times, history_hours)}


def test_a_day_closed_twice_gives_the_same_figures(hub: Hub) -> None:
    started(hub)
    with hub.engine.begin() as conn:
        write_tickets(conn, FIXTURE)
    close(hub)
    rows = rows_of_the_rollup(hub)
    # 20 to 23 November, the weekend without tickets too; two services on the 23rd
    assert rows["history_days"] == 4 and rows["history_counts"] == 3
    web = signed_in_client(hub)
    pages = [web.get(f"/history?{q}").get_data(as_text=True)
             for q in (f"day={DAY}", f"from={FRIDAY}&to={DAY}", f"from=2026-01-01&to={DAY}")]
    close(hub)  # the hub started again the same day: the day just ended rolled up again
    close(hub, TODAY + timedelta(days=1))  # and the next midnight: today too
    assert rows_of_the_rollup(hub) == rows | {"history_days": 5}, "replaced, never doubled"
    again = [web.get(f"/history?{q}").get_data(as_text=True)
             for q in (f"day={DAY}", f"from={FRIDAY}&to={DAY}", f"from=2026-01-01&to={DAY}")]
    for before, after in zip(pages, again, strict=True):
        for key in ("GA_HJQY", "RS_SBKSL", "total"):
            assert cells(after, key) == cells(before, key)
        assert bar_heights(after) == bar_heights(before)
    assert cells(again[0], "RS_SBKSL") == RS


def test_a_correction_is_seen_when_its_day_is_closed_again(hub: Hub) -> None:
    started(hub)
    with hub.engine.begin() as conn:
        write_tickets(conn, FIXTURE)
    close(hub)
    web = signed_in_client(hub)
    with hub.engine.begin() as conn:  # B004 was served after all: wait 300 s, service 600 s
        conn.execute(update(tickets)
                     .where(tickets.c.service_day == DAY, tickets.c.number == "B004")
                     .values(status="finished", wait_seconds=300, service_seconds=600))
    assert cells(web.get(f"/history?day={DAY}").get_data(as_text=True), "RS_SBKSL") == RS
    close(hub)
    # waits 120 300 540 3600 3900: average 8460/5 s = 28.2 min, P90 the 5th = 65.0; service
    # 360 600 600 720: average 570 s = 9.5 min, P90 the 4th = 12.0
    assert cells(web.get(f"/history?day={DAY}").get_data(as_text=True), "RS_SBKSL") == \
        ["县人力资源和社会保障局", "社会保障卡申领", "5", "4", "1", "20.0%", "0", "28.2", "65.0",
         "9.5", "12.0"]
    # an older day's correction: rolled up again on purpose (the close rolls the last day)
    with hub.engine.begin() as conn:
        conn.execute(update(tickets)
                     .where(tickets.c.service_day == FRIDAY, tickets.c.number == "A001")
                     .values(status="no_show", service_seconds=None))
    close(hub)
    html = web.get(f"/history?day={FRIDAY}").get_data(as_text=True)
    assert cells(html, "GA_HJQY")[2:5] == ["1", "1", "0"]
    with hub.engine.begin() as conn:
        assert roll_up_days(conn, [FRIDAY], hub.clock.now()) == [FRIDAY]
    html = web.get(f"/history?day={FRIDAY}").get_data(as_text=True)
    assert cells(html, "GA_HJQY")[2:5] == ["1", "0", "1"]


def test_a_ticket_at_a_window_at_closing_leaves_its_day_to_the_tickets(hub: Hub) -> None:
    """Served across midnight: its day is not rolled up but counted from its tickets,
    with the ticket as it is now, until a close after it has finished."""
    started(hub)
    with hub.engine.begin() as conn:
        write_tickets(conn, [*FIXTURE, Past("A006", "GA_HJQY", "16:50", "called", 600)])
    close(hub)
    with hub.engine.connect() as conn:
        assert DAY not in rolled_up(conn, Period(FRIDAY, DAY))
    web = signed_in_client(hub)
    assert cells(web.get(f"/history?day={DAY}").get_data(as_text=True), "GA_HJQY")[2:7] == \
        ["6", "4", "1", "16.7%", "1"]
    with hub.engine.begin() as conn:
        conn.execute(update(tickets).where(tickets.c.number == "A006")
                     .values(status="finished", service_seconds=900))
    assert cells(web.get(f"/history?day={DAY}").get_data(as_text=True), "GA_HJQY")[2:7] == \
        ["6", "5", "1", "16.7%", "0"], "counted from the tickets as they are now"
    close(hub)
    with hub.engine.connect() as conn:
        assert DAY in rolled_up(conn, Period(FRIDAY, DAY))
    assert cells(web.get(f"/history?day={DAY}").get_data(as_text=True), "GA_HJQY")[2:7] == \
        ["6", "5", "1", "16.7%", "0"]


browser = test_dashboard_browser.browser  # one headless Chromium a module


@pytest.mark.parametrize("day_hub", ["rolled up"], indirect=True)
def test_a_manager_reads_the_day(day_hub: Hub, browser: Browser) -> None:
    make_account(day_hub.engine)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(page, f"{day_hub.dashboard_url}/history?day={DAY}")
    expect(page.locator("h1")).to_contain_text("今日与历史")
    expect(page.locator("#issued")).to_have_text("10")
    expect(page.locator("svg.chart")).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "history.png"), full_page=True)
    page.close()
