"""周通报 on the running hub: managers enter points with `./hallq admin ranking`, the page
shows the fixture week (tests/hub/test_weekly_ranking.py, counted by hand) ranked, with
its figures and chart, and the Excel file opens with the same numbers."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Browser, expect

from hallsim.review_history import write_cases
from hub import admin
from hub.app import Hub
from tests.helpers import make_account, signed_in
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in
from tests.hub.test_weekly_ranking import FIXTURE_SCORES, FIXTURE_WEEK, MONDAY


@pytest.fixture
def ranked_hub(hub: Hub, capsys: pytest.CaptureFixture[str]) -> Hub:
    with hub.engine.begin() as conn:
        write_cases(conn, FIXTURE_WEEK)
    make_account(hub.engine)
    for department, item, points, note in FIXTURE_SCORES:
        assert admin.main(["--url", hub.dashboard_url, "ranking", MONDAY.isoformat(),
                           department, item, f"{points:g}", note, "--who", "张主任"]) == 0
    assert "已录入2026-11-16这一周 SW 的bonus：5 分" in capsys.readouterr().out
    return hub


def test_entries_refused_with_the_reason(ranked_hub: Hub,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url = ranked_hub.dashboard_url
    assert admin.main(["--url", url, "ranking", "2026-11-17", "GA", "quality", "18",
                       "迟到"]) == 1
    assert "周次请填写该周的星期一" in capsys.readouterr().err
    assert admin.main(["--url", url, "ranking", MONDAY.isoformat(), "GA", "quality", "25",
                       "迟到"]) == 1
    assert "窗口服务质量的分值在 0 到 20 之间" in capsys.readouterr().err
    assert admin.main(["--url", url, "ranking", MONDAY.isoformat(), "GA", "quality", "很多",
                       "迟到"]) == 1
    assert "分值应为数字" in capsys.readouterr().err


def test_the_page_shows_the_week_ranked(ranked_hub: Hub) -> None:
    page = signed_in(ranked_hub.dashboard_url).get(f"{ranked_hub.dashboard_url}/ranking",
                        params={"week": "2026-11-18"}, timeout=10)  # any day of the week
    assert page.status_code == 200
    html = page.text
    assert "2026年第47周（11月16日—11月22日）" in html
    places = [html.index(name) for name in ("国家税务总局示范县税务局", "县公安局",
                                            "县不动产登记中心")]
    assert places == sorted(places), "first to last: SW 99, GA 98, BDC 92"
    assert "<strong>99</strong>" in html and "<strong>92</strong>" in html
    assert "窗口服务质量：窗口前排队时间长，群众来回跑" in html
    assert "本周无办件、未排名：" in html and "县民政局" in html
    assert "<svg" in html and "各窗口办件量与好评率" in html and ">5号<" in html
    assert "超5%线" in html  # BDC's three bad reviews of ten
    staff = signed_in(ranked_hub.dashboard_url).get(f"{ranked_hub.dashboard_url}/ranking",
                         params={"week": MONDAY.isoformat(), "by": "staff"}, timeout=10).text
    assert "（S051）" in staff and "未签到" in staff


def cells(sheet: Worksheet, row: int) -> list[object]:
    return [c.value for c in sheet[row]]


def test_the_excel_file_has_the_same_numbers(ranked_hub: Hub) -> None:
    web = signed_in(ranked_hub.dashboard_url)
    answer = web.get(f"{ranked_hub.dashboard_url}/ranking/{MONDAY}.xlsx", timeout=10)
    assert answer.status_code == 200
    assert "filename*=UTF-8''" in answer.headers["Content-Disposition"]
    book = load_workbook(BytesIO(answer.content))
    assert book.sheetnames == ["周通报", "好差评明细", "各窗口", "月评比"]
    ranking = book["周通报"]
    assert ranking["A1"].value == "示范县政务服务中心窗口单位周考核通报"
    assert ranking["A2"].value == "2026年第47周（11月16日—11月22日）"
    assert cells(ranking, 4)[:2] == [1, "国家税务总局示范县税务局"]
    assert cells(ranking, 5)[:10] == [2, "县公安局", 20, 18, 20, 20, 10, 10, 0, 98]
    assert cells(ranking, 6)[:10] == [3, "县不动产登记中心", 20, 15, 17, 20, 10, 10, 0, 92]
    assert cells(ranking, 6)[10] == "窗口服务质量：窗口前排队时间长，群众来回跑"
    details = book["好差评明细"]
    ga = cells(details, 5)
    assert ga[:3] == ["县公安局", 30, 27]
    assert ga[3] == pytest.approx(26 / 30) and ga[5] == pytest.approx(0.96)
    assert details["D5"].number_format == "0.0%"
    assert ga[11] == 89.6  # 满意度: 2420 points over 27 reviews
    windows = book["各窗口"]
    assert [cells(windows, r)[:3] for r in range(4, 8)] == [
        ["5号窗口 公安户政", 20, 17], ["6号窗口 公安户政（居民身份证）", 10, 10],
        ["7号窗口 不动产登记", 10, 10], ["9号窗口 税务办税", 5, 3]]
    assert len(windows._charts) == 1  # volume and satisfaction per window
    month = book["月评比"]
    assert cells(month, 4)[:5] == [1, "县公安局", 100, 98, 99]
    assert web.get(f"{ranked_hub.dashboard_url}/ranking/nonsense.xlsx",
                   timeout=10).status_code == 404


browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_a_manager_reads_the_ranking_and_its_chart(ranked_hub: Hub, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(page, f"{ranked_hub.dashboard_url}/ranking?week={MONDAY}")
    first = page.locator("table").first.locator("tbody tr").first
    expect(first).to_contain_text("国家税务总局示范县税务局")
    bars = page.locator("svg.chart rect.chart-bar")
    expect(bars).to_have_count(5)  # four windows and the legend's swatch
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(4)]
    assert heights[0] == max(heights) and heights[0] == 2 * heights[1], "20 cases vs 10"
    page.screenshot(path=str(SCREENSHOTS / "ranking.png"), full_page=True)
    page.goto(f"{ranked_hub.dashboard_url}/reviews")
    expect(page.locator("h1")).to_contain_text("好差评")
    page.screenshot(path=str(SCREENSHOTS / "reviews.png"), full_page=True)
    page.close()
