"""Accounts and sign-in on the running hub: every manager page needs an account, a sign-in
is limited, checked against CSRF, starts a fresh session, and ends when the password
changes; accounts are made and changed with `./hallq admin accounts`, passwords checked."""

from __future__ import annotations

import io
import re

import pytest
import requests
from itsdangerous import TimestampSigner
from sqlalchemy import select

from hub import admin
from hub.app import Hub
from hub.db.schema import accounts, audit_log
from tests.helpers import (
    PASSWORD,
    csrf_token,
    make_account,
    post_sign_in,
    signed_in,
    signed_in_client,
)

PAGES = ["/", "/appointments", "/reviews", "/ranking", "/ranking/2026-11-23.xlsx"]


def accounts_cli(hub: Hub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                 *args: str, password: str | None = None) -> tuple[int, str]:
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    code = admin.main(["--url", hub.dashboard_url, "accounts", *args, "--who", "系统管理员"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_signed_out_pages_lead_to_the_sign_in_and_citizens_pages_stay_open(hub: Hub) -> None:
    base = hub.dashboard_url.rstrip("/")
    for page in PAGES:
        answer = requests.get(base + page, timeout=10, allow_redirects=False)
        assert answer.status_code == 302, page
        assert answer.headers["Location"].startswith("/signin?next="), page
    for api in ("/api/state", "/events"):
        answer = requests.get(base + api, timeout=10)
        assert answer.status_code == 401 and answer.json()["message"] == "请先登录"
    for public in ("/healthz", "/book", "/api/v1/slots?service=GA_HJQY&day=2026-11-25"):
        assert requests.get(base + public, timeout=10).status_code == 200, public


def test_a_manager_signs_in_and_out(hub: Hub) -> None:
    make_account(hub.engine, "zhang")
    base = hub.dashboard_url.rstrip("/")
    s = requests.Session()
    page = s.get(f"{base}/reviews", timeout=10)  # followed to the sign-in page
    assert "<h1>示范县政务服务中心 · 登录</h1>" in page.text
    before = s.cookies.get("hallq_session")
    answer = post_sign_in(s, base, "zhang", PASSWORD, "/reviews")
    assert answer.status_code == 302 and answer.headers["Location"] == "/reviews"
    assert s.cookies.get("hallq_session") not in (None, before), "a new session at sign-in"
    cookie = next(c for c in s.cookies if c.name == "hallq_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert "SameSite=Lax" in answer.headers["Set-Cookie"]
    reviews = s.get(f"{base}/reviews", timeout=10).text
    assert "测试zhang（中心管理人员）" in reviews and "退出" in reviews
    signout = s.post(f"{base}/signout", timeout=10, allow_redirects=False,
                     data={"csrf_token": csrf_token(reviews)})
    assert signout.status_code == 302
    assert s.get(f"{base}/reviews", timeout=10, allow_redirects=False).status_code == 302
    with hub.engine.connect() as conn:
        actions = list(conn.scalars(select(audit_log.c.action).where(audit_log.c.who == "zhang")))
    assert actions == ["signin", "signout"]


def test_a_wrong_password_keeps_the_name_and_five_lock_the_name(hub: Hub) -> None:
    make_account(hub.engine, "zhang")
    base = hub.dashboard_url.rstrip("/")
    s = requests.Session()
    for _ in range(5):
        wrong = post_sign_in(s, base, "zhang", "not-the-password")
        assert wrong.status_code == 401
        assert "用户名或密码错误" in wrong.text and 'value="zhang"' in wrong.text
    limited = post_sign_in(s, base, "zhang", PASSWORD)
    assert limited.status_code == 429 and "登录失败次数过多，请15分钟后再试" in limited.text
    make_account(hub.engine, "li")
    assert post_sign_in(requests.Session(), base, "li", PASSWORD).status_code == 302
    with hub.engine.connect() as conn:
        actions = list(conn.scalars(select(audit_log.c.action).where(audit_log.c.who == "zhang")))
    assert actions == ["signin.failed"] * 5 + ["signin.limited"]


def test_forms_without_their_csrf_token_are_refused(hub: Hub) -> None:
    make_account(hub.engine)
    base = hub.dashboard_url.rstrip("/")
    s = requests.Session()
    s.get(f"{base}/signin", timeout=10)
    answer = s.post(f"{base}/signin", timeout=10, allow_redirects=False,
                    data={"username": "manager", "password": PASSWORD})
    assert answer.status_code == 400 and "缺少校验码" in answer.text
    web = signed_in(base)
    assert web.post(f"{base}/signout", timeout=10, allow_redirects=False).status_code == 400
    assert web.get(f"{base}/reviews", timeout=10, allow_redirects=False).status_code == 200


def test_no_redirect_away_from_the_hub(hub: Hub) -> None:
    make_account(hub.engine)
    base = hub.dashboard_url.rstrip("/")
    for target in ("//evil.example/", "https://evil.example/"):
        answer = post_sign_in(requests.Session(), base, "manager", PASSWORD, target)
        assert answer.headers["Location"] == "/"


def test_accounts_are_made_with_a_good_password_and_changes_end_sessions(
        hub: Hub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    refused = {"1234567": "密码至少8位", "woaini1314": "这个密码太常见",
               "zhang-2026-x": "密码不能包含用户名"}
    for password, reason in refused.items():
        code, out = accounts_cli(hub, capsys, monkeypatch, "add", "zhang", "--role", "admin",
                                 "--name", "张主任", "--password-stdin", password=password)
        assert code == 1 and reason in out, password
    code, out = accounts_cli(hub, capsys, monkeypatch, "add", "zhang", "--role", "admin",
                             "--name", "张主任", "--password-stdin", password=PASSWORD)
    assert code == 0 and "已开设账号 zhang（系统管理员）" in out
    code, out = accounts_cli(hub, capsys, monkeypatch, "add", "li", "--role", "department",
                             "--name", "李科长", "--password-stdin", password=PASSWORD)
    assert code == 1 and "部门负责人须指定部门" in out
    code, out = accounts_cli(hub, capsys, monkeypatch, "add", "li", "--role", "department",
                             "--department", "GA", "--name", "李科长", "--password-stdin",
                             password=PASSWORD)
    assert code == 0
    code, out = accounts_cli(hub, capsys, monkeypatch)
    assert re.search(r"li\s+李科长 部门负责人 GA", out)
    assert re.search(r"zhang\s+张主任 系统管理员", out)
    with hub.engine.connect() as conn:
        stored = conn.scalar(select(accounts.c.password_hash).where(accounts.c.username == "li"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored

    base = hub.dashboard_url.rstrip("/")
    web = signed_in(base, "li")
    assert web.get(f"{base}/", timeout=10, allow_redirects=False).status_code == 200
    code, _ = accounts_cli(hub, capsys, monkeypatch, "password", "li", "--password-stdin",
                           password="Another-pass-99")
    assert code == 0
    assert web.get(f"{base}/", timeout=10, allow_redirects=False).status_code == 302, \
        "the old session ended with the password"
    code, out = accounts_cli(hub, capsys, monkeypatch, "disable", "zhang")
    assert code == 1 and "不能停用最后一个系统管理员" in out
    assert accounts_cli(hub, capsys, monkeypatch, "disable", "li")[0] == 0
    s = requests.Session()
    assert post_sign_in(s, base, "li", "Another-pass-99").status_code == 401


def test_setting_the_system_clock_back_keeps_managers_signed_in(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cookie's signature carries the system clock's time; set back an hour, that time
    lies ahead. The session's age is the hub's to judge (its own clock holds the jump), so
    the manager stays signed in; a forged cookie is still refused."""
    client = signed_in_client(hub)
    assert client.get("/").status_code == 200
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) - 3600)
    page = client.get("/")
    assert page.status_code == 200, "still signed in after the clock went back"
    cookie = client.get_cookie("hallq_session")
    assert cookie is not None
    client.set_cookie("hallq_session", cookie.value[:-2] + "xx")
    assert client.get("/").status_code == 302, "a cookie with a wrong signature"
