"""The window program as the hall has it: its Kivy screen (offscreen), the staff buttons on
gpiozero's mock pins and the evaluator tapped like a finger, against the real broker and hub.
Screenshots go to var/test-artifacts/window-screen/ for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode
from sqlalchemy import select

from caller_display import evaluator as ev
from caller_display.window_app import HUB_OFFLINE, QUEUED, STORAGE_FULL, banner_for
from hallsim.broker import Broker
from hub.app import Hub
from hub.db.schema import reviews, windows
from hub.settings import HubSettings
from kiosk.core import KioskCore
from protocol.topics import DeviceClass
from screen_ui.colours import ALERT, WARN
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.screen_run import ROOT, disk_events, run_driver, screen_env

OUT = ROOT / "var" / "test-artifacts" / "window-screen"
SERVICE = "GA_HJQY"  # 户口迁移, served at window 5


@pytest.fixture
def morning(broker: Broker, hub: Hub, hub_settings: HubSettings, make_link: LinkFactory,
            tmp_path: Path) -> Iterator[tuple[dict[str, Any], Hub]]:
    """Four citizens wait for 户口迁移; the window's morning runs; its report and the hub."""
    machine: KioskCore = kiosk(make_link, tmp_path, hub)
    for _ in range(4):
        assert machine.take_ticket(SERVICE).issued is not None
    shutil.rmtree(OUT, ignore_errors=True)
    env = screen_env(broker, DeviceClass.CALLER, "CALLER", tmp_path, {
        "HALL_ID": hub_settings.hall_id, "DEVICE_ID": "caller-5", "WINDOW": "5",
        "DATA_DIR": str(tmp_path / "caller"), "REPLY_TIMEOUT": "1.0", "RESEND_AFTER": "0.5",
        "PANEL__HOLD_S": "0.4", "THANKS_S": "1.5"})
    report = run_driver("tests.caller_display.window_driver", OUT, env,
                        tmp_path / "driver.log",
                        {"stop-hub": hub.stop, **disk_events(broker, hub_settings.hall_id)},
                        timeout_s=60)
    yield report["steps"], hub


def test_a_window_morning_on_the_screen(morning: tuple[dict[str, Any], Hub]) -> None:
    steps, hub = morning
    assert any("工作人员未签到" in t for t in steps["closed"]["texts"])
    assert "A岗 S051" in steps["choose_post"]["texts"]  # the window's posts to sign in at
    assert any("●●●●●●" in t for t in steps["pin_typed"]["texts"])  # dots, never digits
    assert not any("111111" in t for t in steps["pin_typed"]["texts"])
    assert "工号或密码错误" in steps["wrong_pin"]["texts"]
    assert not any("●" in t for t in steps["wrong_pin"]["texts"])  # the wrong PIN cleared
    signed = steps["signed_in"]
    assert signed["staff"] in signed["texts"]  # the staff card shows who serves
    assert any("5号窗口" in t for t in signed["texts"])

    first, second = steps["serving_1"], steps["serving_2"]
    assert first["number"] == "A001" and second["number"] == "A002"
    assert "A001" in first["texts"] and "正在办理" in first["texts"]
    assert "户口迁移" in first["texts"]

    prompt = steps["review_prompt_1"]["texts"]
    assert any(t.startswith(ev.PROMPT) for t in prompt)
    for grade in ("非常满意", "满意", "基本满意", "不满意", "非常不满意", ev.SKIP):
        assert any(t.startswith(grade) for t in prompt), grade
    reasons = steps["reasons"]["texts"]
    assert ev.REASON_PROMPT in reasons and "等候时间太长" in reasons
    assert ev.THANKS in steps["thanks_1"]["texts"]
    assert ev.THANKS in steps["thanks_2"]["texts"]

    # One review per case: the double tap on 非常满意 gave one, 不评价 none.
    with hub.engine.connect() as conn:
        rows = conn.execute(select(reviews.c.grade, reviews.c.reason, reviews.c.window_number)
                            .order_by(reviews.c.id)).all()
    assert [tuple(r) for r in rows] == [("unsatisfied", "等候时间太长", 5),
                                        ("very_satisfied", None, 5)]
    assert not any(t.startswith(ev.PROMPT) for t in steps["next_call_closes_evaluator"]["texts"])
    assert not any(t.startswith(ev.PROMPT) for t in steps["skipped"]["texts"])

    # A pause, the staff menu, and the hub gone: each is said on the screen.
    assert steps["paused"]["status"] == "paused"
    assert "暂停服务" in steps["paused"]["texts"]
    assert steps["menu"]["title"] in steps["menu"]["texts"]
    assert steps["resumed"]["status"] == "open"
    assert steps["signed_out"]["status"] == "closed"  # 下班签退 from the pause menu
    assert STORAGE_FULL in steps["storage_full"]["texts"]
    assert STORAGE_FULL not in steps["storage_back"]["texts"]
    assert HUB_OFFLINE in steps["hub_offline"]["texts"]
    for shot in ("window-sign-in", "window-serving", "window-review", "window-bad-review-reason",
                 "window-paused", "window-staff-menu", "window-storage-full",
                 "window-hub-offline"):
        assert (OUT / f"{shot}.png").stat().st_size > 10_000, shot
    with hub.engine.connect() as conn:
        window = conn.execute(select(windows.c.status, windows.c.on_duty)
                              .where(windows.c.number == 5)).one()
    assert tuple(window) == ("closed", None)  # signed out at the end of the day

    # The review QR code on the screen is the case's page on the citizen's phone.
    codes = decode(Image.open(OUT / "window-review.png").convert("L"),
                   symbols=[ZBarSymbol.QRCODE])
    assert [c.data.decode() for c in codes] == [steps["review_prompt_1"]["review_url"]]
    assert steps["review_prompt_1"]["review_url"].startswith(hub.ticket_base_url)


def test_the_banner_says_the_hub_is_away_unable_to_work_or_presses_wait() -> None:
    assert banner_for(None, None, False) is None
    assert banner_for(False, "storage_full", True) == (HUB_OFFLINE, ALERT)
    assert banner_for(True, "storage_full", True) == (STORAGE_FULL, ALERT)
    assert banner_for(True, None, True) == (QUEUED, WARN)
    assert "暂停叫号" in STORAGE_FULL
