"""Managers change the window–service matrix and the calendar while the hall runs.

Through `./hallq admin` (hub/admin.py) and the settings API of a running hub: a change
applies to the next call or ticket, refuses to strand anyone, and outlives a restart.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub import admin
from hub.app import Hub
from hub.catalogue import load_catalogue
from hub.issuing import IssuingRules
from hub.settings import HubSettings
from hub.work_calendar import WorkCalendar
from protocol.messages import ErrorReply, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

SH = ZoneInfo("Asia/Shanghai")


def run_admin(hub: Hub, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `./hallq admin ARGS` against this hub; its exit code and all it printed."""
    code = admin.main(["--url", hub.dashboard_url, *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def open_windows(hub: Hub, service: str) -> int | None:
    queue = hub.feed.snapshot()[1]["queue"]
    return next((s["open_windows"] for s in queue["services"] if s["service"] == service), None)


def test_a_window_given_an_item_calls_it_at_the_next_call(
        hub: Hub, make_link: LinkFactory, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(make_link, tmp_path, hub).take_ticket("BDC_CX").issued
    window = caller(make_link, 5)  # 公安户政: no 不动产 items
    window.open()
    empty = window.call_next()
    assert isinstance(empty, ErrorReply) and empty.message == "当前没有等候的群众"
    eventually(lambda: open_windows(hub, "BDC_CX") == 0, what="no open window for BDC_CX")

    code, out = run_admin(hub, "matrix", "5", "add", "BDC_CX", capsys=capsys)
    assert code == 0 and "5号窗口已更新，下一次叫号起生效。新增：BDC_CX" in out
    called = window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.number == "F001"
    eventually(lambda: open_windows(hub, "BDC_CX") == 1, what="the kiosk sees an open window")
    code, out = run_admin(hub, "matrix", "5", capsys=capsys)
    assert "（管理员已调整）" in out and "BDC_CX" in out


def test_the_last_window_of_an_item_cannot_be_taken_away(
        hub: Hub, make_link: LinkFactory, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk(make_link, tmp_path, hub).take_ticket("ZW_BBCS").issued  # 办不成事反映: 15 only
    code, out = run_admin(hub, "matrix", "15", "remove", "ZW_BBCS", capsys=capsys)
    assert code == 1
    assert "「办不成事反映」只有15号窗口办理（现有1人等候），移走后将没有窗口办理" in out
    assert next(r.services for r in hub.live.matrix() if r.window == 15) == ["ZW_BBCS"]
    code, out = run_admin(hub, "matrix", "15", "add", "NO_SUCH", capsys=capsys)
    assert code == 1 and "没有这些服务事项（或已停用）：NO_SUCH" in out
    code, out = run_admin(hub, "matrix", "99", "add", "ZW_BBCS", capsys=capsys)
    assert code == 1 and "没有99号窗口" in out


def test_a_managers_matrix_outlives_a_restart_until_reset(
        hub_settings: HubSettings, capsys: pytest.CaptureFixture[str]) -> None:
    first = Hub(hub_settings)
    first.start()
    assert first.consumer.wait_connected(10)
    try:
        assert run_admin(first, "matrix", "6", "set", "GA_SFZHL", capsys=capsys)[0] == 0
    finally:
        first.stop()
    again = Hub(hub_settings)
    again.start()
    assert again.consumer.wait_connected(10)
    try:
        assert next(r.services for r in again.live.matrix() if r.window == 6) == ["GA_SFZHL"]
        code, out = run_admin(again, "matrix", "6", "reset", capsys=capsys)
        assert code == 0 and "新增：GA_HJQY GA_JZZ" in out
        row = next(r for r in again.live.matrix() if r.window == 6)
        assert row.services == ["GA_HJQY", "GA_JZZ", "GA_SFZHL"] and not row.edited
    finally:
        again.stop()


def test_settings_answer_only_this_machine(hub: Hub) -> None:
    client = hub.web.test_client()
    far = client.put("/api/settings/window-services/5", json={"services": []},
                     environ_base={"REMOTE_ADDR": "192.168.1.20"})
    assert far.status_code == 403
    assert far.json == {"ok": False, "code": "FORBIDDEN",
                        "message": "设置只能在大厅服务器本机修改（管理员账号功能上线前）"}
    assert next(r.services for r in hub.live.matrix() if r.window == 5) != []
    bad = client.put("/api/settings/window-services/5", json={"services": "GA_HJQY"},
                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert bad.status_code == 400 and bad.json is not None and bad.json["code"] == "INVALID"


def test_a_holiday_entered_today_stops_issuing_until_cleared(
        hub: Hub, make_link: LinkFactory, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    k = kiosk(make_link, tmp_path, hub)
    assert k.take_ticket("GA_HJQY").issued
    code, out = run_admin(hub, "calendar", "set", "2026-11-24", "off", "临时闭馆", capsys=capsys)
    assert code == 0 and "已录入1天" in out
    refused = k.take_ticket("GA_HJQY")
    assert refused.error is not None
    assert refused.error.message == "现在不在取号时间，下次取号时间：明天08:30"
    assert run_admin(hub, "calendar", "clear", "2026-11-24", capsys=capsys)[0] == 0
    assert k.take_ticket("GA_HJQY").issued


def test_next_years_holidays_from_a_file_end_the_warning(
        hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert any("2027年的法定节假日" in w for w in hub.warnings())
    bad = tmp_path / "bad.txt"
    bad.write_text("2027-01-01 off 元旦\n2027-02-30 off 春节\n", encoding="utf-8")
    code, out = run_admin(hub, "calendar", "import", str(bad), capsys=capsys)
    assert code == 1 and "第2行日期有误" in out
    assert hub.live.calendar_days(2027) == [], "all or nothing"

    good = tmp_path / "holidays-2027.txt"
    good.write_text("# 2027年 (示例)\n2027-01-01..2027-01-03 off 元旦\n"
                    "2027-02-06..2027-02-12 休 春节\n2027-02-14 班 春节调休\n", encoding="utf-8")
    code, out = run_admin(hub, "calendar", "import", str(good), capsys=capsys)
    assert code == 0 and "已录入11天" in out
    assert not any("2027年" in w for w in hub.warnings())
    assert hub.calendar.is_workday(date(2027, 2, 14)), "a 调休 Sunday works"
    assert not hub.calendar.is_workday(date(2027, 2, 8)), "a Monday of the Spring Festival"
    code, out = run_admin(hub, "calendar", "2027", capsys=capsys)
    assert "2027-02-14  上班（调休）  春节调休" in out


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def test_the_weekend_duty_window_opens_its_items_on_saturdays_only() -> None:
    catalogue = load_catalogue()
    rules = IssuingRules(catalogue, WorkCalendar())
    saturday = at(2026, 11, 28, 10, 0)
    assert rules.is_open("RS_SBKSL", saturday), "社保卡 is served at window 1, on weekend duty"
    assert not rules.is_open("GA_HJQY", saturday), "户口迁移 has no duty window"
    assert rules.closed_message("GA_HJQY", saturday) == \
        "现在不在取号时间，下次取号时间：11月30日（周一）08:30"
    assert rules.closed_message("RS_SBKSL", at(2026, 11, 28, 8, 0)) == \
        "现在不在取号时间，下次取号时间：今天09:00"
    assert not rules.is_open("RS_SBKSL", at(2026, 11, 28, 17, 0))
    assert not rules.is_open("RS_SBKSL", at(2026, 10, 3, 10, 0)), "国庆 is a holiday, not duty"
    assert rules.is_open("RS_SBKSL", at(2026, 11, 24, 8, 30)), "weekdays as the hall"

    matrix = {w.number: w.services for w in catalogue.windows}
    matrix[1] = [*matrix[1], "GA_HJQY"]
    rules.use_matrix(matrix)
    assert rules.is_open("GA_HJQY", saturday), "moved to the duty window, it opens"


def test_a_year_out_of_range_is_refused_not_an_error(hub: Hub) -> None:
    """Found by tests/fuzz: /api/settings/calendar?year=0 was a server error (500)."""
    api = hub.web.test_client()
    for year in ("0", "99999999999999999999", "1999"):
        answer = api.get(f"/api/settings/calendar?year={year}")
        assert answer.status_code == 400, year
        assert answer.get_json()["message"] == "年份应在2000到2100之间"
    assert api.get("/api/settings/calendar?year=2027").status_code == 200
