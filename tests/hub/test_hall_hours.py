"""办公时间 as managers type them: spans read in every way people write them, refused in
Chinese when they run backwards, overlap, are too many or are no times at all; kept in the
database in place of the file's until handed back, and in force in the issuing rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from hub import hall_hours
from hub.catalogue import Catalogue, Hours, load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.db.engine import dispose, make_engine, migrate
from hub.db.schema import audit_log, managed_hours
from hub.hall_hours import HALL, checked, parse_day
from hub.issuing import IssuingRules
from hub.work_calendar import WorkCalendar
from protocol.errors import UserError

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 2, 0)  # naive UTC: 10:00 in the hall
LUNCH = ["08:30-12:00", "14:00-17:30"]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


@pytest.mark.parametrize("typed", [
    "08:30-12:00、14:00-17:30", "08:30-12:00,14:00-17:30", "08:30-12:00 14:00-17:30",
    "14:00-17:30，08:30-12:00", " 8:30 - 12:00 ；14：00～17：30 ", "08:30-12:00\n14:00-17:30",
])
def test_a_lunch_break_is_two_spans_however_typed(typed: str) -> None:
    assert parse_day(typed, "workday") == LUNCH


def test_one_span_a_later_end_and_nothing() -> None:
    assert parse_day("08:30-17:30", "workday") == ["08:30-17:30"], "午间服务制"
    assert parse_day("08:30-19:00", "workday") == ["08:30-19:00"], "延时服务"
    assert parse_day("  ", "holiday") == [], "closed that kind of day"


@pytest.mark.parametrize(("typed", "said"), [
    ("17:30-08:30", "工作日：“17:30-08:30”的开始时间须早于结束时间"),
    ("09:00-09:00", "工作日：“09:00-09:00”的开始时间须早于结束时间"),
    ("08:30-12:00、11:00-14:00", "工作日：08:30-12:00与11:00-14:00重叠，请合并为一段或调整时间"),
    ("abc", "工作日：“abc”不是时间段，请写成“08:30-12:00”，多段用“、”隔开"),
    ("08:30", "工作日：“08:30”不是时间段"),
    ("08:30-25:00", "工作日：“08:30-25:00”中的时间不存在（时为00至23，分为00至59）"),
    ("08:00-09:00、10:00-11:00、12:00-13:00、14:00-15:00、16:00-17:00",
     "工作日最多4个时间段（现有5个）"),
])
def test_bad_spans_are_refused_in_chinese(typed: str, said: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_day(typed, "workday")
    assert said in refused.value.zh


def test_the_hall_issues_on_some_working_day_span() -> None:
    with pytest.raises(UserError, match="closed on workdays") as refused:
        checked(HALL, "", "09:00-17:00", "")
    assert refused.value.zh == "大厅工作日至少要有一个取号时间段"
    assert checked(("window", "1"), "", "09:00-17:00", "").workday == [], "a weekend-only window"
    hours = checked(("item", "GA_HJQY"), "08:30-12:00", "", "09:00-11:00")
    assert hours == Hours(workday=["08:30-12:00"], weekend=[], holiday=["09:00-11:00"])
    with pytest.raises(UserError) as refused:
        checked(HALL, "08:30-17:30", "", "abc")
    assert refused.value.zh.startswith("法定节假日：“abc”")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    migrate(e)
    with e.begin() as conn:
        sync_catalogue(conn, load_catalogue(), NOW)
    yield e
    dispose(e)


def rules_from(engine: Engine, catalogue: Catalogue) -> IssuingRules:
    """The rules as a hub starting on this database builds them."""
    with engine.connect() as conn:
        return IssuingRules(catalogue, WorkCalendar(),
                            plan=hall_hours.plan(catalogue, hall_hours.read(conn)))


def test_a_managers_hours_replace_the_files_until_reset(engine: Engine) -> None:
    catalogue = load_catalogue()
    with engine.begin() as conn:
        hall_hours.write(conn, catalogue, HALL, Hours(workday=LUNCH), "zhang", NOW)
    rules = rules_from(engine, catalogue)
    assert not rules.is_open("GA_HJQY", at(2026, 11, 24, 12, 30))
    assert rules.closed_message("GA_HJQY", at(2026, 11, 24, 12, 30)) == \
        "现在不在取号时间，下次取号时间：今天14:00"
    assert rules.is_open("GA_HJQY", at(2026, 11, 24, 14, 5))
    assert rules.is_open("RS_SBKSL", at(2026, 11, 24, 12, 30)), \
        "window 1's own hours (the file's) do not follow the hall's"
    assert rules.spans("RS_SBKSL", at(2026, 11, 24, 0, 0).date()) == [
        (time(8, 30), time(17, 30))], "its windows' spans joined: booking slots cut once"
    assert rules.open_until("RS_SBKSL", at(2026, 11, 24, 12, 30)) == at(2026, 11, 24, 17, 30)
    assert rules.open_until("GA_HJQY", at(2026, 11, 24, 9, 0)) == at(2026, 11, 24, 12, 0)

    changed = load_catalogue().model_copy(update={"hours": Hours(workday=["09:00-17:00"])})
    assert not rules_from(engine, changed).is_open("GA_HJQY", at(2026, 11, 24, 12, 30)), \
        "a new catalogue file does not change the manager's hours"

    with engine.begin() as conn:
        hall_hours.reset(conn, catalogue, HALL, "li", NOW)
        entries = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
        assert conn.execute(select(managed_hours)).all() == []
    assert rules_from(engine, catalogue).is_open("GA_HJQY", at(2026, 11, 24, 12, 30))
    assert [(e.who, e.action, e.target) for e in entries] == [
        ("zhang", "hours.set", "hall"), ("li", "hours.reset", "hall")]
    assert entries[0].before == {"workday": ["08:30-17:30"], "weekend": [], "holiday": []}
    assert entries[0].after["workday"] == LUNCH
    assert entries[1].after["workday"] == ["08:30-17:30"]


def test_a_duty_window_an_items_own_hours_and_following_again(engine: Engine) -> None:
    catalogue = load_catalogue()
    saturday = at(2026, 11, 28, 10, 0)
    with engine.begin() as conn:
        hall_hours.write(conn, catalogue, ("window", "9"),  # 税务: weekend mornings only
                         Hours(workday=[], weekend=["09:00-12:00"]), "zhang", NOW)
        hall_hours.write(conn, catalogue, ("item", "BDC_CX"),
                         Hours(workday=["08:30-12:00"], holiday=["09:00-11:00"]), "zhang", NOW)
    rules = rules_from(engine, catalogue)
    assert rules.is_open("SW_FPLY", saturday) and not rules.is_open("BDC_ZYDJ", saturday)
    assert not rules.is_open("SW_FPLY", at(2026, 11, 24, 10, 0)), "9 alone serves it"
    assert rules.is_open("SW_XXQR", at(2026, 11, 24, 10, 0)), "also at windows 3 and 4"
    assert not rules.is_open("BDC_CX", at(2026, 11, 24, 15, 0))
    assert rules.is_open("BDC_CX", at(2026, 10, 2, 10, 0)), "国庆 opens when set"

    with engine.begin() as conn:
        hall_hours.follow(conn, catalogue, ("window", "1"), "zhang", NOW)  # the file's duty
        hall_hours.follow(conn, catalogue, ("item", "BDC_CX"), "zhang", NOW)
        rows = {(r.scope, r.key): r.hours for r in conn.execute(select(managed_hours))}
        with pytest.raises(UserError, match="no hours of its own"):
            hall_hours.follow(conn, catalogue, ("window", "2"), "zhang", NOW)
        with pytest.raises(UserError, match="follows no one"):
            hall_hours.follow(conn, catalogue, HALL, "zhang", NOW)
    assert rows == {("window", "1"): None, ("window", "9"): {
        "workday": [], "weekend": ["09:00-12:00"], "holiday": []}}, \
        "BDC_CX had none in the file: nothing to keep"
    rules = rules_from(engine, catalogue)
    assert not rules.is_open("RS_SBKSL", saturday), "window 1 follows the hall: no duty"
    assert rules.is_open("BDC_CX", at(2026, 11, 24, 15, 0))


def test_unknown_owners_and_rows_the_file_no_longer_has(engine: Engine) -> None:
    catalogue = load_catalogue()
    for text in ("window-x", "item-", "hall-1", "items-GA_HJQY", ""):
        with pytest.raises(UserError):
            hall_hours.owner_of(text)
    assert hall_hours.owner_of("window-05") == ("window", "5")
    with engine.begin() as conn, pytest.raises(UserError) as refused:
        hall_hours.write(conn, catalogue, ("window", "99"), Hours(), "zhang", NOW)
    assert refused.value.zh == "99号窗口不在目录文件中"
    with engine.begin() as conn:
        hall_hours.write(conn, catalogue, ("item", "GA_HJQY"), Hours(workday=["09:00-10:00"]),
                         "zhang", NOW)
    smaller = catalogue.model_copy(update={
        "services": [s for s in catalogue.services if s.code != "GA_HJQY"],
        "windows": [w.model_copy(update={"services": [c for c in w.services if c != "GA_HJQY"]})
                    for w in catalogue.windows]})
    with engine.connect() as conn:
        assert "GA_HJQY" not in hall_hours.plan(smaller, hall_hours.read(conn)).items


def test_a_department_leads_hours_stay_within_the_windows() -> None:
    rules = IssuingRules(load_catalogue(), WorkCalendar())
    windows = rules.windows_hours("RS_SBKSL")  # windows 1 (weekend duty), 2 and 13
    assert hall_hours.outside(Hours(workday=["09:00-11:00"], weekend=["09:00-12:00"]),
                              windows) is None
    assert hall_hours.outside(Hours(workday=["08:00-11:00"]), windows) == "工作日 08:00-11:00"
    assert hall_hours.outside(Hours(weekend=["09:00-12:00"]), rules.windows_hours("GA_HJQY")) \
        == "双休日 09:00-12:00"
