"""好差评 figures and the weekly ranking (周通报), against a fixture week computed by hand.

The week of Monday 16 November 2026, in a real migrated SQLite file with the county
catalogue:

- 县公安局 (GA): window 5, 20 cases by S051: 15 非常满意, 1 满意, 2 不满意 (one appeal
  upheld), 2 not reviewed; window 6, 10 cases: 8 满意 by phone, 2 默认评价 (满意).
  Reviewed 26 of 30; counted reviews 27 (the upheld one out, the defaults in); bad 1;
  good 26; active 25, active good 24. Bad share 1/27 = 3.7 %: within 5 % of 27 (1.35,
  one review allowed), so 5 points; coverage 15 × 26/30 = 13: 好差评 18 points.
- 县不动产登记中心 (BDC): window 7, 10 cases, all at the evaluator: 7 非常满意,
  3 非常不满意. 5 % of 10 allows none: 3 over, 5 − 3 × 2 < 0 gives 0; coverage 15:
  好差评 15. A manager took 3 points off 窗口服务质量 (17). Its bad review finished
  Monday 23 November 00:10 belongs to the next week.
- 国家税务总局示范县税务局 (SW): window 9, 5 cases, 3 满意 (one finished Sunday
  23:30): coverage 15 × 3/5 = 9, 好差评 14; a bonus of 5 for a 锦旗.

Totals: SW 20+14+20+20+10+10+5 = 99, GA 98, BDC 20+15+17+20+10+10 = 92.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, select

from hallsim.review_history import PastCase, write_cases
from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import Clock
from hub.db.engine import dispose, make_engine, migrate
from hub.db.schema import audit_log
from hub.review_scores import figures
from hub.rules import ReviewRules
from hub.weekly_ranking import month, set_score, week
from protocol.errors import UserError
from protocol.messages import Grade

CLOCK = Clock("Asia/Shanghai")
MONDAY = date(2026, 11, 16)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return CLOCK.day_start(day) + timedelta(hours=hour, minutes=minute)


def cases(window: int, service: str, grades: list[Grade | None], channel: str = "window",
          staff_no: str | None = None, day: date = MONDAY, hour: int = 10,
          minute: int = 0, upheld: int = -1) -> list[PastCase]:
    return [PastCase(finished_at=at(day, hour, minute), service=service, window=window,
                     staff_no=staff_no, grade=g, channel=channel, appeal_upheld=i == upheld)
            for i, g in enumerate(grades)]


FIXTURE_WEEK = [
    *cases(5, "GA_HJQY", ["very_satisfied"] * 15 + ["satisfied", "unsatisfied", "unsatisfied",
                                                     None, None], staff_no="S051", upheld=17),
    *cases(6, "GA_SFZHL", ["satisfied"] * 8, channel="phone", day=date(2026, 11, 18)),
    *cases(6, "GA_SFZHL", ["satisfied"] * 2, channel="default", day=date(2026, 11, 18)),
    *cases(7, "BDC_ZYDJ", ["very_satisfied"] * 7 + ["very_unsatisfied"] * 3),
    *cases(7, "BDC_ZYDJ", ["very_unsatisfied"], day=date(2026, 11, 23), hour=0, minute=10),
    *cases(9, "SW_FPLY", ["satisfied", "satisfied", None, None]),
    *cases(9, "SW_FPLY", ["satisfied"], day=date(2026, 11, 22), hour=23, minute=30),
    *cases(5, "GA_HJQY", ["very_satisfied"] * 4, day=date(2026, 11, 10)),
    *cases(5, "GA_HJQY", ["very_satisfied"], day=date(2026, 10, 12)),
]
# the managers' entries of the fixture week: (department, item, points, note)
FIXTURE_SCORES = [("BDC", "quality", 17.0, "窗口前排队时间长，群众来回跑"),
                  ("SW", "bonus", 5.0, "群众赠送锦旗")]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    migrate(e)
    with e.begin() as conn:
        sync_catalogue(conn, load_catalogue(), datetime(2026, 11, 1))
        write_cases(conn, FIXTURE_WEEK)
        for department, item, points, note in FIXTURE_SCORES:
            set_score(conn, MONDAY, department, item, points, note, "张主任", at(MONDAY))
    yield e
    dispose(e)


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as c:
        yield c


def test_department_figures_match_the_hand_count(conn: Connection) -> None:
    week_figures = {f.key: f for f in figures(conn, at(MONDAY, 0), at(MONDAY + timedelta(7), 0),
                                              "department")}
    ga = week_figures["GA"]
    assert (ga.cases, ga.reviewed, ga.reviews, ga.bad, ga.good, ga.active, ga.active_good) == \
        (30, 26, 27, 1, 26, 25, 24)
    assert ga.coverage == pytest.approx(26 / 30)
    assert ga.no_review_rate == pytest.approx(4 / 30)
    assert ga.good_rate == pytest.approx(26 / 27)
    assert ga.active_good_rate == pytest.approx(0.96)
    assert ga.bad_share == pytest.approx(1 / 27)
    assert ga.bad_over_line(0.05) == 0
    # 15 × 100 + 80 + 40 (one 不满意 counted) + 8 × 80 + 2 × 80 (默认评价), of 27
    assert ga.satisfaction == pytest.approx(2420 / 27)
    bdc = week_figures["BDC"]
    assert (bdc.cases, bdc.bad, bdc.bad_over_line(0.05)) == (10, 3, 3)
    assert week_figures["SW"].coverage == pytest.approx(0.6)
    assert set(week_figures) == {"GA", "BDC", "SW"}


def test_window_staff_and_hall_figures(conn: Connection) -> None:
    since, until = at(MONDAY, 0), at(MONDAY + timedelta(7), 0)
    by_window = {f.key: f for f in figures(conn, since, until, "window")}
    assert by_window["5"].label == "5号窗口 公安户政"
    assert (by_window["5"].cases, by_window["5"].reviewed, by_window["5"].reviews) == (20, 18, 17)
    assert by_window["6"].active == 8 and by_window["6"].reviews == 10
    staff = {f.key: f for f in figures(conn, since, until, "staff")}
    assert staff["S051"].cases == 20 and "S051" in staff["S051"].label
    assert staff[""].label == "未签到" and staff[""].cases == 25
    [hall] = figures(conn, since, until, "hall")
    assert (hall.cases, hall.reviewed, hall.reviews, hall.bad) == (45, 39, 40, 4)


def test_the_week_ranks_departments_on_the_score_sheet(conn: Connection) -> None:
    result = week(conn, CLOCK, ReviewRules(), MONDAY)
    assert [(r.rank, r.department, r.total) for r in result.rows] == \
        [(1, "SW", 99.0), (2, "GA", 98.0), (3, "BDC", 92.0)]
    ga, bdc = result.rows[1], result.rows[2]
    assert ga.points["reviews"] == 18.0
    assert bdc.points == {"reform": 20, "reviews": 15.0, "quality": 17, "discipline": 20,
                          "management": 10, "supervision": 10, "bonus": 0}
    assert bdc.notes == {"quality": "窗口前排队时间长，群众来回跑"}
    assert "县民政局" in result.idle and "县公安局" not in result.idle
    assert result.title == "2026年第47周（11月16日—11月22日）"
    assert [w.key for w in result.windows] == ["5", "6", "7", "9"]


def test_ties_share_a_place_and_the_line_is_a_setting(conn: Connection) -> None:
    strict = ReviewRules(bad_share_line=0.0, ranking_bad_deduction=1)
    result = week(conn, CLOCK, strict, MONDAY)
    assert {r.department: r.points["reviews"] for r in result.rows} == \
        {"GA": 17.0, "BDC": 17.0, "SW": 14.0}  # 13 + 4, 15 + 2, 9 + 5
    set_score(conn, MONDAY, "GA", "bonus", 2, "媒体报道", "张主任", at(MONDAY))
    set_score(conn, MONDAY, "SW", "bonus", None, "锦旗已计入上周", "张主任", at(MONDAY))
    result = week(conn, CLOCK, ReviewRules(), MONDAY)
    assert [(r.rank, r.department, r.total) for r in result.rows] == \
        [(1, "GA", 100.0), (2, "SW", 94.0), (3, "BDC", 92.0)]


def test_entries_are_checked_and_audited(conn: Connection) -> None:
    refusals = [
        ((MONDAY + timedelta(1), "GA", "quality", 18, "迟到"), "周次请填写该周的星期一"),
        ((MONDAY, "GA", "reviews", 20, "想改"), "可以录入的考核项目：reform"),
        ((MONDAY, "XX", "quality", 18, "迟到"), "没有窗口单位 XX"),
        ((MONDAY, "GA", "quality", 21, "迟到"), "窗口服务质量的分值在 0 到 20 之间"),
        ((MONDAY, "GA", "quality", 18, " "), "请写明扣分或加分的理由"),
    ]
    for (monday, department, item, points, note), message in refusals:
        with pytest.raises(UserError) as refused:
            set_score(conn, monday, department, item, points, note, "张主任", at(MONDAY))
        assert refused.value.zh.startswith(message)
    set_score(conn, MONDAY, "GA", "discipline", 18, "上班迟到", "张主任", at(MONDAY))
    entry = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())).first()
    assert entry is not None
    assert (entry.who, entry.action, entry.target, entry.after, entry.reason) == \
        ("张主任", "ranking_score", "2026-11-16:GA:discipline", {"points": 18}, "上班迟到")
    assert week(conn, CLOCK, ReviewRules(), MONDAY).rows[1].total == 96.0


def test_the_month_averages_its_weeks_and_ranks_them(conn: Connection) -> None:
    """November: GA 100 (9th, four 非常满意) and 98; SW 99; BDC 92 and 98 (the 23rd: one
    case, one bad review over the line: 15 + 5 − 2). October: GA alone, 100."""
    rows = month(conn, CLOCK, ReviewRules(), 2026, 11)
    assert [(r.rank, r.department, r.weeks, r.average) for r in rows] == [
        (1, "GA", [100.0, 98.0], 99.0), (1, "SW", [99.0], 99.0),
        (3, "BDC", [92.0, 98.0], 95.0)]
    assert (rows[0].last_rank, rows[0].last_average) == (1, 100.0)
    assert (rows[1].last_rank, rows[1].last_average) == (None, None)
    assert [r.department for r in month(conn, CLOCK, ReviewRules(), 2026, 11,
                                        until=MONDAY)] == ["GA", "SW", "BDC"]
