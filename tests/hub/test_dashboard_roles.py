"""Who sees what on the dashboard: each role's pages, a department lead's own department
only, the administrator's accounts page, and the audit log of every change."""

from __future__ import annotations

from io import BytesIO

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from hallsim.review_history import write_cases
from hub.app import Hub
from tests.helpers import PASSWORD, csrf_token, signed_in_client
from tests.hub.test_weekly_ranking import FIXTURE_WEEK

PAGES = ["/", "/history", "/history.xlsx", "/appointments", "/reviews", "/ranking",
         "/ranking/2026-11-23.xlsx", "/audit", "/audit.xlsx", "/accounts", "/settings", "/desk",
         "/items", "/staff", "/hours", "/devices"]
ALLOWED = {
    "admin": set(PAGES),
    "manager": set(PAGES) - {"/accounts"},
    "department": {"/", "/history", "/history.xlsx", "/reviews", "/ranking",
                   "/ranking/2026-11-23.xlsx", "/items", "/hours", "/devices"},
    "guide": {"/", "/appointments", "/desk", "/hours", "/devices"},
    "viewer": {"/", "/history", "/history.xlsx", "/appointments", "/reviews", "/ranking",
               "/ranking/2026-11-23.xlsx", "/items", "/staff", "/hours", "/devices"},
}


def test_each_role_opens_its_pages_and_no_others(hub: Hub) -> None:
    for role, allowed in ALLOWED.items():
        web = signed_in_client(hub, f"user-{role}", role, "GA" if role == "department" else None)
        home = web.get("/").get_data(as_text=True)
        for page in PAGES:
            answer = web.get(page)
            expected = 200 if page in allowed else 403
            assert answer.status_code == expected, (role, page, answer.status_code)
            if expected == 403:
                assert "您的账号没有权限" in answer.get_data(as_text=True)
            shown = f'href="{page}"' in home
            assert shown == (page in allowed) or "." in page, (role, page, "in the menu")
        refused = web.post("/accounts", data={"csrf_token": csrf_token(home)})
        assert refused.status_code == (400 if role == "admin" else 403), role


@pytest.fixture
def history(hub: Hub) -> Hub:
    with hub.engine.begin() as conn:
        write_cases(conn, FIXTURE_WEEK)
    return hub


def test_a_department_lead_sees_its_own_department(history: Hub) -> None:
    lead = signed_in_client(history, "li", "department", "GA").get("/reviews")
    page = lead.get_data(as_text=True)
    assert "5号窗口 公安户政" in page and "户口迁移" in page
    assert "7号窗口" not in page and "不动产" not in page and "税务" not in page
    manager = signed_in_client(history).get("/reviews").get_data(as_text=True)
    assert "7号窗口 不动产登记" in manager and "全大厅" in manager
    ranking = signed_in_client(history, "li2", "department", "GA").get(
        "/ranking?week=2026-11-16&by=window").get_data(as_text=True)
    assert "国家税务总局示范县税务局" in ranking  # the ranking is the hall's, read to all
    assert "5号窗口 公安户政" in ranking and "9号窗口 税务办税" not in ranking  # its figures


def form_of(web: FlaskClient, path: str) -> str:
    return csrf_token(web.get(path).get_data(as_text=True))


def test_the_administrator_manages_accounts_and_the_log_shows_it(hub: Hub) -> None:
    admin = signed_in_client(hub, "zhang", "admin")
    weak = admin.post("/accounts", data={
        "username": "wang", "display_name": "王导办", "role": "guide", "department": "",
        "password": "12345678", "password2": "12345678", "csrf_token": form_of(admin, "/accounts")})
    page = weak.get_data(as_text=True)
    assert weak.status_code == 400 and "这个密码太常见" in page
    assert 'value="wang"' in page and 'value="王导办"' in page  # what was typed stays
    made = admin.post("/accounts", data={
        "username": "wang", "display_name": "王导办", "role": "guide", "department": "",
        "password": PASSWORD, "password2": PASSWORD, "csrf_token": form_of(admin, "/accounts")})
    assert made.status_code == 303
    listing = admin.get(made.headers["Location"]).get_data(as_text=True)
    assert "已开设账号 wang" in listing and "王导办" in listing and "导办台" in listing

    guide = FlaskClient(hub.web)
    signin = guide.post("/signin", data={"username": "wang", "password": PASSWORD, "next": "/",
                                         "csrf_token": form_of(guide, "/signin")})
    assert signin.status_code == 302
    assert admin.post("/accounts/wang/disable",
                      data={"csrf_token": form_of(admin, "/accounts")}).status_code == 303
    assert guide.get("/").status_code == 302, "a disabled account's session ends"
    refused = admin.post("/accounts/zhang/disable",
                         data={"csrf_token": form_of(admin, "/accounts")})
    assert "不能停用自己的账号" in refused.get_data(as_text=True)

    log = admin.get("/audit?who=zhang").get_data(as_text=True)
    for shown in ("开设账号", "wang", "停用账号", "角色：导办台", "启用：否"):
        assert shown in log, shown
    everything = admin.get("/audit").get_data(as_text=True)
    assert "登录" in everything and "开设账号" in everything
    book = load_workbook(BytesIO(admin.get("/audit.xlsx?who=zhang").data))
    rows = [[c.value for c in row] for row in book["操作日志"].iter_rows(min_row=4)]
    assert [r[2] for r in rows] == ["停用账号", "开设账号", "登录"]
    assert all(r[1] == "zhang" for r in rows)
