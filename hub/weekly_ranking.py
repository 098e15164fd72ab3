"""周通报 and 月评比: the 窗口单位 (departments) ranked on seed 000's 100-point score sheet.

Seed 000 §6 and §24: every week the hall reads out the departments' ranking from first
to last (周通报); every month it compares them on the weeks' results (月评比) and reports
to the county. The sheet (000 annex) has six items; this hall's data tell one of them:

- 好差评评价量 (20): computed from the week's cases (hub/review_scores.py): the 一事一评
  part is `ranking_coverage_points` × coverage, the 5 % part `ranking_bad_points` less
  `ranking_bad_deduction` per bad review beyond the line (hub/rules.py ReviewRules);
- the other five items and the bonus (加分) are entered by managers for each department
  and week (`set_score`), with a written note; an item not entered keeps its full points,
  as the sheet takes points off for faults found.

A department is ranked in a week when it finished a case or was given points; one with
neither is listed apart (本周无办件). Ties share a place (1, 1, 3). The weeks run Monday
to Sunday in the hall's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from hub import audit, hall_state
from hub.clock import Clock
from hub.db.schema import ranking_scores
from hub.review_scores import Figures, figures
from hub.rules import ReviewRules
from protocol.errors import ErrorCode, UserError


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    points: float  # full points; the bonus has none and is capped by `cap`
    cap: float
    computed: bool = False


SHEET: tuple[Item, ...] = (
    Item("reform", "政务服务工作流程、营商环境评价推进", 20, 20),
    Item("reviews", "“好差评”评价量", 20, 20, computed=True),
    Item("quality", "窗口服务质量", 20, 20),
    Item("discipline", "窗口单位纪律", 20, 20),
    Item("management", "窗口管理（免费复印、卫生、节约用电）", 10, 10),
    Item("supervision", "“互联网+监管”行为发生量录入及时率", 10, 10),
    Item("bonus", "加分（领导表扬、锦旗、媒体报道、创新）", 0, 30),
)
ITEMS = {item.key: item for item in SHEET}


@dataclass(frozen=True)
class Row:
    rank: int
    department: str  # code
    name: str
    points: dict[str, float]  # per item key
    notes: dict[str, str]  # the managers' notes of the items they entered
    figures: Figures | None  # None: no case this week
    total: float


@dataclass(frozen=True)
class Week:
    monday: date
    rows: list[Row]
    idle: list[str] = field(default_factory=list)  # departments not ranked: no case
    windows: list[Figures] = field(default_factory=list)  # the chart: volume, satisfaction

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def title(self) -> str:
        year, number, _ = self.monday.isocalendar()
        return (f"{year}年第{number}周（{self.monday.month}月{self.monday.day}日—"
                f"{self.sunday.month}月{self.sunday.day}日）")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def review_points(fig: Figures | None, rules: ReviewRules) -> float:
    """The 好差评 item's points for a department's week."""
    if fig is None or fig.cases == 0:
        return rules.ranking_coverage_points + rules.ranking_bad_points
    coverage = rules.ranking_coverage_points * (fig.coverage or 0)
    kept = max(0.0, rules.ranking_bad_points
               - rules.ranking_bad_deduction * fig.bad_over_line(rules.bad_share_line))
    return round(coverage + kept, 1)


def week(conn: Connection, clock: Clock, rules: ReviewRules, monday: date, *,
         with_windows: bool = True) -> Week:
    """The ranking of the week of `monday`; `with_windows` adds the windows' figures."""
    monday = monday_of(monday)
    since, until = clock.day_start(monday), clock.day_start(monday + timedelta(days=7))
    by_department = {f.key: f for f in figures(conn, since, until, "department",
                                               rules.grade_points)}
    names = hall_state.departments(conn)
    entered: dict[str, dict[str, tuple[float, str]]] = {}
    for r in conn.execute(select(ranking_scores).where(ranking_scores.c.week == monday)):
        entered.setdefault(r.department_code, {})[r.item] = (r.points, r.note)
    unranked: list[tuple[str, dict[str, float], dict[str, str]]] = []
    for code in sorted(by_department.keys() | entered.keys()):
        given = entered.get(code, {})
        points = {item.key: given[item.key][0] if item.key in given else item.points
                  for item in SHEET}
        points["reviews"] = review_points(by_department.get(code), rules)
        unranked.append((code, points, {k: v[1] for k, v in given.items()}))
    totals = {code: round(sum(points.values()), 1) for code, points, _ in unranked}
    order = sorted(unranked, key=lambda u: (-totals[u[0]], u[0]))
    rows = [Row(rank=1 + sum(t > totals[code] for t in totals.values()), department=code,
                name=names.get(code, code), points=points, notes=notes,
                figures=by_department.get(code), total=totals[code])
            for code, points, notes in order]
    idle = [names[code] for code in sorted(names.keys() - by_department.keys() - entered.keys())]
    return Week(monday=monday, rows=rows, idle=idle,
                windows=(figures(conn, since, until, "window", rules.grade_points)
                         if with_windows else []))


@dataclass(frozen=True)
class MonthRow:
    rank: int
    department: str
    name: str
    weeks: list[float]  # the week totals, in order
    average: float
    last_rank: int | None  # the place a month before (None: not ranked then)
    last_average: float | None


def month_weeks(year: int, month: int) -> list[date]:
    """The weeks of a month: those whose Monday falls in it."""
    day = date(year, month, 1)
    monday = monday_of(day) if day.weekday() == 0 else monday_of(day) + timedelta(days=7)
    mondays = []
    while monday.month == month:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


def month(conn: Connection, clock: Clock, rules: ReviewRules, year: int, month_: int,
          until: date | None = None) -> list[MonthRow]:
    """月评比: each department's average of its week totals in the month (weeks starting
    after `until` not yet counted), ranked, with the month before beside it."""
    def averages(y: int, m: int) -> dict[str, tuple[str, list[float]]]:
        result: dict[str, tuple[str, list[float]]] = {}
        for monday in month_weeks(y, m):
            if until is not None and monday > until:
                break
            for row in week(conn, clock, rules, monday, with_windows=False).rows:
                result.setdefault(row.department, (row.name, []))[1].append(row.total)
        return result

    now = averages(year, month_)
    before = averages(year - (month_ == 1), 12 if month_ == 1 else month_ - 1)
    mean = {code: round(sum(w) / len(w), 1) for code, (_, w) in now.items()}
    last = {code: round(sum(w) / len(w), 1) for code, (_, w) in before.items() if w}
    return [MonthRow(rank=1 + sum(v > mean[code] for v in mean.values()), department=code,
                     name=name, weeks=w, average=mean[code],
                     last_rank=(1 + sum(v > last[code] for v in last.values())
                                if code in last else None),
                     last_average=last.get(code))
            for code, (name, w) in sorted(now.items(), key=lambda kv: (-mean[kv[0]], kv[0]))]


def set_score(conn: Connection, monday: date, department: str, item: str,
              points: float | None, note: str, who: str, now: datetime) -> None:
    """A manager's points for an item of a department's week, with the reason; None puts
    the item back to its full points. Audited."""
    if monday.weekday() != 0:
        raise UserError(ErrorCode.INVALID, f"{monday} not a Monday", "周次请填写该周的星期一")
    sheet_item = ITEMS.get(item)
    if sheet_item is None or sheet_item.computed:
        raise UserError(ErrorCode.INVALID, f"item {item}",
                        "可以录入的考核项目：" + "、".join(
                            f"{i.key}（{i.name}）" for i in SHEET if not i.computed))
    if department not in hall_state.departments(conn):
        raise UserError(ErrorCode.INVALID, f"department {department}", f"没有窗口单位 {department}")
    if points is not None and not 0 <= points <= sheet_item.cap:
        raise UserError(ErrorCode.INVALID, f"{points} points",
                        f"{sheet_item.name}的分值在 0 到 {sheet_item.cap:g} 之间")
    if not note.strip():
        raise UserError(ErrorCode.INVALID, "no note", "请写明扣分或加分的理由")
    where = (ranking_scores.c.week == monday, ranking_scores.c.department_code == department,
             ranking_scores.c.item == item)
    old = conn.execute(select(ranking_scores.c.points, ranking_scores.c.note).where(*where)
                       ).one_or_none()
    conn.execute(delete(ranking_scores).where(*where))
    if points is not None:
        conn.execute(insert(ranking_scores).values(
            week=monday, department_code=department, item=item, points=round(points, 1),
            note=note.strip(), entered_by=who, entered_at=now))
    audit.record(conn, now, who, "ranking_score", f"{monday}:{department}:{item}",
                 None if old is None else {"points": old.points, "note": old.note},
                 None if points is None else {"points": round(points, 1)}, note.strip())
