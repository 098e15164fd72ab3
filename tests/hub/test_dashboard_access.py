"""Every route of the dashboard, found from the app itself (so a new page is covered the day
it lands): signed out, nothing but the citizens' pages answers; a read-only account can
change nothing; a form sent without its CSRF token changes nothing."""

from __future__ import annotations

import re

from flask import Flask

from hub.app import Hub
from tests.helpers import csrf_token, signed_in_client

PUBLIC = ("booking.", "ticket_page.", "settings_api.")  # citizens' pages; the hub machine's API
OPEN = {"static", "healthz", "signin", "signin_post"}


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, a path for it) of every dashboard route; path variables filled
    with something plausible."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN or rule.endpoint.startswith(PUBLIC):
            continue
        path = re.sub(r"<(?:int:)?([a-z_]+)>", lambda m: "1" if "int:" in m.group(0) else
                      {"monday": "2026-11-23", "action": "callback", "day": "2027-01-01",
                       "username": "nobody"}.get(m.group(1), "x1"), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


def test_signed_out_every_route_is_refused(hub: Hub) -> None:
    client = hub.web.test_client()
    seen = routes(hub.web)
    assert len(seen) > 25 and any(e == "settings_pages.set_window" for e, _, _ in seen)
    for endpoint, method, path in seen:
        answer = client.open(path, method=method)
        if method == "GET" and not path.startswith(("/api/", "/events")):
            assert answer.status_code == 302, (endpoint, path, answer.status_code)
            assert answer.headers["Location"].startswith("/signin"), endpoint
        else:
            assert answer.status_code in (400, 401), (endpoint, method, answer.status_code)


def test_a_read_only_account_changes_nothing(hub: Hub) -> None:
    viewer = signed_in_client(hub, "zhao", "viewer")
    token = csrf_token(viewer.get("/").get_data(as_text=True))
    for endpoint, method, path in routes(hub.web):
        if method == "GET" or endpoint == "signout":
            continue
        answer = viewer.open(path, method=method, data={"csrf_token": token, "text": "x",
                                                        "reason": "x"})
        assert answer.status_code == 403, (endpoint, path, answer.status_code)


def test_a_form_without_its_token_changes_nothing(hub: Hub) -> None:
    admin = signed_in_client(hub, "zhang", "admin")
    for endpoint, method, path in routes(hub.web):
        if method == "GET":
            continue
        answer = admin.open(path, method=method, data={"text": "x", "reason": "x"})
        assert answer.status_code == 400, (endpoint, path, answer.status_code)
        assert "缺少校验码" in answer.get_data(as_text=True), endpoint


def test_a_missing_page_and_a_wrong_method_answer_in_chinese(hub: Hub) -> None:
    web = signed_in_client(hub, "zhang", "manager")
    missing = web.get("/no-such-page")
    assert missing.status_code == 404
    assert "没有这个页面，请从菜单进入" in missing.get_data(as_text=True)
    wrong = web.get("/desk/ticket")
    assert wrong.status_code == 405 and "不能这样打开这个页面" in wrong.get_data(as_text=True)
    api = web.get("/api/no-such-thing")
    assert api.status_code == 404 and api.get_json()["message"] == "没有这个页面，请从菜单进入"


def test_a_page_number_past_the_end_shows_the_last_page(hub: Hub) -> None:
    """Found by tests/fuzz: /audit?page=200000000000000000 was a database error (500)."""
    web = signed_in_client(hub, "zhang", "manager")
    for asked in ("200000000000000000", "3", "-5", "x"):
        answer = web.get(f"/audit?page={asked}")
        assert answer.status_code == 200, asked
        assert "第 1 / 1 页" in answer.get_data(as_text=True), asked


def test_a_control_character_typed_into_a_search_still_gives_the_excel_file(hub: Hub) -> None:
    """Found by tests/fuzz: /appointments.xlsx?q=%08 failed (500): Excel cells cannot hold
    control characters; they are left out."""
    web = signed_in_client(hub, "zhang", "manager")
    answer = web.get("/appointments.xlsx?day=2026-11-24&q=%08138")
    assert answer.status_code == 200
    assert answer.data[:2] == b"PK", "an Excel file"
