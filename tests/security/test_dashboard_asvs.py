"""The dashboard against the OWASP ASVS 5.0 level 1–2 items that apply to it (issue 11), the
等保2.0 level-2 basics with them. Each item has its test; those written with the pages they
guard are listed here by name so this file is the index:

- sign-in limited after repeated failures (429): test_dashboard_sign_in (five wrong
  passwords lock the name), the fuzzing of the sign-in, and across a restart below;
- passwords of at least 8 characters, not among the most common, not the user name: below;
- a slow, salted hash (argon2id): below;
- a new session at sign-in (test_dashboard_sign_in); sign-out ends the session and a
  copied cookie does not resume it, also after a restart: below;
- cookies HttpOnly, SameSite, Secure under https: below;
- a CSRF token on every state change: test_dashboard_access (a form without its token);
- no state change on GET: tests/fuzz/test_http_endpoints.py;
- access by role on every route: test_dashboard_access, test_dashboard_roles;
- access by department: test_dashboard_roles, test_items_page, test_reviews_page, below;
- an audit record (who, what, when, where from, the result) of sign-ins and changes: below,
  and each page's tests;
- no open redirect after sign-in: test_dashboard_sign_in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import select

from hub import accounts
from hub.app import Hub
from hub.db.schema import accounts as accounts_table
from hub.db.schema import audit_log
from hub.settings import HubSettings
from protocol.errors import UserError
from tests.helpers import (
    PASSWORD,
    csrf_token,
    make_account,
    post_sign_in,
    signed_in_client,
)


def sign_in(base: str, username: str, password: str = PASSWORD) -> requests.Session:
    s = requests.Session()
    form = s.get(f"{base}/signin", timeout=10).text
    answer = s.post(f"{base}/signin", timeout=10, allow_redirects=False, data={
        "username": username, "password": password, "next": "/",
        "csrf_token": csrf_token(form)})
    assert answer.status_code == 302, answer.text[:300]
    return s


def test_sign_out_ends_the_session_and_a_copied_cookie_does_not_resume_it(hub: Hub) -> None:
    make_account(hub.engine, "zhang")
    base = hub.dashboard_url.rstrip("/")
    s = sign_in(base, "zhang")
    stolen = s.cookies.get("hallq_session")
    page = s.get(f"{base}/reviews", timeout=10)
    assert "退出" in page.text
    assert s.post(f"{base}/signout", timeout=10, allow_redirects=False,
                  data={"csrf_token": csrf_token(page.text)}).status_code == 302
    thief = requests.Session()
    thief.cookies.set("hallq_session", stolen)
    replay = thief.get(f"{base}/reviews", timeout=10, allow_redirects=False)
    assert replay.status_code == 302 and "/signin" in replay.headers["Location"]
    other = sign_in(base, "zhang")  # the same account's other sessions go on
    assert other.get(f"{base}/reviews", timeout=10, allow_redirects=False).status_code == 200


@contextmanager
def running(settings: HubSettings) -> Iterator[tuple[Hub, str]]:
    """A hub started on these settings (the same database each time), and its address."""
    hub = Hub(settings)
    hub.start()
    try:
        yield hub, hub.dashboard_url.rstrip("/")
    finally:
        hub.stop()


def test_a_signed_out_session_stays_ended_after_a_restart(hub_settings: HubSettings) -> None:
    with running(hub_settings) as (first, base):
        make_account(first.engine, "zhang")
        s = sign_in(base, "zhang")
        stolen = s.cookies.get("hallq_session")
        page = s.get(f"{base}/", timeout=10).text
        s.post(f"{base}/signout", timeout=10, data={"csrf_token": csrf_token(page)})
    with running(hub_settings) as (_, base):
        thief = requests.Session()
        thief.cookies.set("hallq_session", stolen)
        replay = thief.get(f"{base}/", timeout=10, allow_redirects=False)
        assert replay.status_code == 302, "the hub remembers the sessions signed out"


def test_the_sign_in_limit_holds_across_a_restart(hub_settings: HubSettings) -> None:
    """Restarting the hub (or making it crash) does not give a guesser five more tries."""
    with running(hub_settings) as (first, base):
        make_account(first.engine, "zhang")
        for _ in range(5):
            assert post_sign_in(requests.Session(), base, "zhang", "not-it").status_code == 401
    with running(hub_settings) as (again, base):
        limited = post_sign_in(requests.Session(), base, "zhang", PASSWORD)
        assert limited.status_code == 429 and "登录失败次数过多" in limited.text
        make_account(again.engine, "li")
        assert post_sign_in(requests.Session(), base, "li", PASSWORD).status_code == 302


def test_passwords_are_long_uncommon_and_not_the_name(hub: Hub) -> None:
    with hub.engine.begin() as conn:
        for password, why in [("Ab1!", "密码至少8位"), ("password", "太常见"),
                              ("12345678", "太常见"), ("woaini1314", "太常见"),
                              ("liming2026!", "不能包含用户名")]:
            with pytest.raises(UserError) as refused:
                accounts.add(conn, "liming", "李明", "viewer", None, password, "admin",
                             datetime(2026, 11, 24, 9, 0))
            assert why in refused.value.zh, (password, refused.value.zh)
        assert accounts.count(conn) == 0


def test_passwords_are_kept_as_slow_salted_argon2id_hashes(hub: Hub) -> None:
    make_account(hub.engine, "zhang")
    make_account(hub.engine, "wang")
    with hub.engine.connect() as conn:
        hashes = dict(conn.execute(select(accounts_table.c.username,
                                          accounts_table.c.password_hash)).all())
    for stored in hashes.values():
        assert PASSWORD not in stored
        m = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
        assert m is not None, stored
        memory_kib, rounds = int(m.group(1)), int(m.group(2))
        # OWASP password storage: argon2id with at least 19 MiB and 2 passes
        assert memory_kib >= 19 * 1024 and rounds >= 2, stored
        assert PasswordHasher().verify(stored, PASSWORD)
    assert hashes["zhang"] != hashes["wang"], "salted: the same password, two hashes"


def test_cookies_are_http_only_same_site_and_secure_under_https(
        hub_settings: HubSettings) -> None:
    hub = Hub(hub_settings.model_copy(update={"public_url": "https://hall.example.cn"}))
    try:
        make_account(hub.engine, "zhang")
        web = hub.web.test_client()
        form = web.get("/signin").get_data(as_text=True)
        answer = web.post("/signin", data={"username": "zhang", "password": PASSWORD,
                                           "next": "/", "csrf_token": csrf_token(form)})
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith("hallq_session=")
        for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
            assert flag in cookie, cookie
    finally:
        hub.engine.dispose()


def test_a_department_lead_reaches_nothing_of_another_department(hub: Hub) -> None:
    lead = signed_in_client(hub, "li", "department", "GA")
    items = lead.get("/items").get_data(as_text=True)
    assert "户口迁移" in items and "不动产登记资料查询" not in items
    assert lead.post("/items/BDC_CX", data={"csrf_token": csrf_token(items)}).status_code == 403
    history = lead.get("/history?day=2026-11-24").get_data(as_text=True)
    assert "不动产登记资料查询" not in history


def test_sign_ins_and_changes_leave_who_what_when_and_the_result(hub: Hub) -> None:
    make_account(hub.engine, "zhang", "manager")
    base = hub.dashboard_url.rstrip("/")
    bad = requests.Session()
    form = bad.get(f"{base}/signin", timeout=10).text
    bad.post(f"{base}/signin", timeout=10, data={"username": "zhang", "password": "wrong-one",
                                                 "next": "/", "csrf_token": csrf_token(form)})
    s = sign_in(base, "zhang")
    page = s.get(f"{base}/settings", timeout=10).text
    s.post(f"{base}/settings/public-info", timeout=10, data={
        "complaint_phone": "12345", "notices": "今日下午三点系统维护",
        "csrf_token": csrf_token(page)})
    with hub.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.who == "zhang")
                            .order_by(audit_log.c.id)).all()
    assert [r.action for r in rows] == ["signin.failed", "signin", "public_info.set"]
    assert all(r.at is not None for r in rows)
    assert rows[0].target == rows[1].target == "127.0.0.1", "where from"
    assert rows[2].after["notices"] == ["今日下午三点系统维护"], "what, with the result"
