"""The kiosk's touch app, tapped like a finger would, against the real broker and hub.

Kivy allows one window per process, so the app runs in a subprocess
(tests/kiosk/kiosk_driver.py) on SDL's offscreen driver: no X server. The test checks
what the citizen could read at each step and what the hub recorded. Screenshots go to
var/test-artifacts/kiosk/ for people to look at.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode
from sqlalchemy import select

from caller_display.caller_core import CallerCore
from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hub.app import Hub
from hub.db.schema import tickets
from hub.settings import HubSettings
from kiosk.ui import texts
from protocol.link import DeviceLink
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass
from tests.helpers import eventually
from tests.screen_run import ROOT, disk_events, run_driver, screen_env

OUT = ROOT / "var" / "test-artifacts" / "kiosk"
TIMEOUT_S = 90  # the whole visit takes about 20 s; this only stops a hung window


def ticket_rows(hub: Hub) -> dict[str, tuple[str, str | None, str | None]]:
    """number → (status, handed_over, closed_reason) of every ticket of the day."""
    with hub.engine.connect() as conn:
        rows = conn.execute(select(tickets.c.number, tickets.c.status, tickets.c.handed_over,
                                   tickets.c.closed_reason)).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def kiosk_env(broker: Broker, hub_settings: HubSettings, tmp_path: Path) -> dict[str, str]:
    """The kiosk's settings and a headless Kivy, as the environment of the subprocess."""
    return screen_env(broker, DeviceClass.KIOSK, "KIOSK", tmp_path, {
        "HALL_ID": hub_settings.hall_id, "DEVICE_ID": "kiosk-ui",
        "DATA_DIR": str(tmp_path / "kiosk"), "IDLE_TIMEOUT_S": "5", "TICKET_SHOWN_S": "2",
        "REPLY_TIMEOUT": "1.0", "RESEND_AFTER": "0.5",
        "PRINTER_CHECK_S": "60",  # the driver asks the printer itself
    })


@pytest.fixture(scope="module")
def visit(broker: Broker, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[dict[str, Any], Hub]]:
    """Run the driver once for all tests here: its report, and the hub (restarted once)."""
    tmp_path = tmp_path_factory.mktemp("kiosk-app")
    hall_id = f"ui{os.getpid() % 10000}"
    hub_settings = HubSettings(hall_id=hall_id, db_url=f"sqlite:///{tmp_path / 'hub.db'}",
                               mqtt=broker.settings_for(DeviceClass.HUB), http_port=0,
                               start_at=WORKING_MORNING)
    hubs = [Hub(hub_settings)]
    hubs[0].start()
    assert hubs[0].consumer.wait_connected(10)
    # 户口迁移 gets an open window (5), so its wait has an estimate.
    link = DeviceLink(DeviceSettings(hall_id=hall_id, device_id="caller-5",
                                     mqtt=broker.settings_for(DeviceClass.CALLER),
                                     data_dir=tmp_path / "caller"), DeviceClass.CALLER)
    link.start()
    assert link.wait_connected(10)
    window = CallerCore(link, 5)
    window.sign_in("S051", "123456")
    window.open()
    shutil.rmtree(OUT, ignore_errors=True)

    def start_hub() -> None:
        hubs.append(Hub(hub_settings))
        hubs[-1].start()

    try:
        report = run_driver("tests.kiosk.kiosk_driver", OUT,
                            kiosk_env(broker, hub_settings, tmp_path)
                            | {"HALLQ_KIOSK_CAMERA": "folder",  # the driver feeds the view
                               "HALLQ_KIOSK_CAMERA_FOLDER": str(tmp_path)},
                            tmp_path / "driver.log",
                            {"stop-hub": lambda: hubs[-1].stop(), "start-hub": start_hub,
                             **disk_events(broker, hub_settings.hall_id)},
                            TIMEOUT_S)
        yield report["steps"], hubs[-1]
    finally:
        link.stop()
        hubs[-1].stop()


def test_a_citizen_takes_tickets_by_touch(visit: tuple[dict[str, Any], Hub]) -> None:
    steps, hub = visit
    home = steps["home"]["texts"]
    for text in ("县公安局", texts.BUNDLES, texts.APPOINTMENT, "长辈模式", texts.HELP):
        assert any(text in t for t in home), text

    item = steps["item"]["texts"]
    for text in ("户口迁移", "办理条件", "所需材料（一次性告知）", "1、居民身份证原件",
                 "法定20个工作日，承诺1个工作日办结", "不收费", texts.TAKE):
        assert any(text in t for t in item), text
    assert any(t.startswith("前方等待0人，预计") and t.endswith("分钟") for t in item), item

    printed = steps["printed"]
    assert "A001" in printed["texts"]
    assert "您已领取A001号，前方等待0人" in printed["texts"]
    assert printed["sizes"]["A001"] >= 150  # the number, large
    assert printed["printed"]
    assert 1.5 < steps["after_printed"]["waited_s"] < 8  # back home after ticket_shown_s

    assert ticket_rows(hub)["A001"] == ("waiting", "printed", None)


def test_elder_mode_is_larger_with_fewer_choices(visit: tuple[dict[str, Any], Hub]) -> None:
    steps, _ = visit
    standard, elder = steps["home"], steps["elder"]
    assert elder["elder"] and not standard["elder"]
    assert elder["sizes"][texts.HELP] > standard["sizes"][texts.HELP]
    assert not any("县公安局" in t for t in elder["texts"])  # items, not departments
    assert any("居民身份证换领、补领" in t for t in elder["texts"])
    assert f"不会操作？{texts.HELP_DESK}" in elder["texts"]
    assert len(elder["texts"]) < len(standard["texts"])
    assert steps["elder_item"]["elder"] and steps["elder_back"]["page"] == "home"


def test_out_of_paper_shows_the_ticket_with_a_scannable_qr(
        visit: tuple[dict[str, Any], Hub]) -> None:
    steps, hub = visit
    shown = steps["out_of_paper"]
    assert texts.NO_PRINTER in shown["texts"]
    assert "A002" in shown["texts"] and "您已领取A002号，前方等待1人" in shown["texts"]
    assert "打印机缺纸，号票显示在屏幕上：请拍照或记下号码" in shown["texts"]
    assert texts.NOTED in shown["texts"]
    picture = Image.open(OUT / "out_of_paper.png").convert("L")
    (symbol,) = decode(picture, symbols=[ZBarSymbol.QRCODE])
    assert symbol.data.decode() == shown["qr"]
    assert "号码已确认" in steps["noted"]["texts"]
    assert ticket_rows(hub)["A002"] == ("waiting", "screen", None)
    assert "A003" in steps["on_screen_unwanted"]["texts"]  # 不要这个号了: never called
    assert ticket_rows(hub)["A003"] == ("void", None, "not_taken")


def test_every_page_has_help_and_a_way_back(visit: tuple[dict[str, Any], Hub]) -> None:
    steps, _ = visit
    for name, step in steps.items():
        if name != "end":
            assert texts.HELP in step["texts"], name
    assert texts.SCAN_HINT in steps["checkin"]["texts"]
    assert steps["checkin"]["camera_frames"] > 0, "the camera's picture is on the page"
    assert "暂时不能取号" in steps["checkin_refused"]["texts"]
    assert texts.HELP_DESK in steps["help"]["texts"]
    assert 4 < steps["idle_home"]["waited_s"] < 12  # idle_timeout_s is 5


def test_hub_offline_a_tap_waits_for_its_ticket_or_gives_it_up(
        visit: tuple[dict[str, Any], Hub]) -> None:
    steps, hub = visit
    pending = steps["pending"]["texts"]
    assert texts.HUB_OFFLINE in pending and texts.RECONNECTING in pending
    assert texts.CANCEL in pending
    # Two taps while the hub was away: the first citizen gave up, the second waited.
    late = next(t for t in steps["late_ticket"]["texts"] if t.startswith("您已领取"))
    shown = late.removeprefix("您已领取")[:4]
    gone = ({"A004", "A005"} - {shown}).pop()
    rows = ticket_rows(hub)
    assert rows[shown] == ("waiting", "printed", None)
    assert rows[gone] == ("void", None, "citizen_left")
    for name in ("home", "item", "printed", "elder", "out_of_paper", "checkin", "hub_offline",
                 "storage_full"):
        assert (OUT / f"{name}.png").stat().st_size > 10_000, name


def test_a_full_disk_at_the_hub_sends_citizens_to_the_guide_desk(
        visit: tuple[dict[str, Any], Hub]) -> None:
    steps, _ = visit
    assert texts.STORAGE_FULL in steps["storage_full"]["texts"]


def test_paperless_the_ticket_goes_on_the_phone_or_on_paper_if_asked(
        visit: tuple[dict[str, Any], Hub]) -> None:
    steps, hub = visit
    shown = steps["paperless"]["texts"]
    assert texts.TO_PHONE in shown and texts.SAVED_ON_PHONE in shown
    assert texts.PRINT_INSTEAD in shown and "A006" in shown
    assert any(t.startswith("您已领取A006号") for t in steps["paperless_printed"]["texts"])
    rows = ticket_rows(hub)
    assert rows["A006"] == ("waiting", "printed", None), "paper after all"
    assert rows["A007"] == ("waiting", "phone", None), "saved on the phone, no paper"
    assert (OUT / "paperless.png").stat().st_size > 10_000


def device_row(hub: Hub, device_id: str) -> dict[str, Any] | None:
    return next((d for d in hub.feed.snapshot()[1]["devices"] if d["device_id"] == device_id),
                None)


def test_python_m_kiosk_reaches_the_hub_and_stops_cleanly(hub: Hub, broker: Broker,
                                                         tmp_path: Path) -> None:
    env = kiosk_env(broker, hub.settings, tmp_path) | {"HALLQ_KIOSK_DEVICE_ID": "kiosk-main"}
    with (tmp_path / "kiosk.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kiosk"], cwd=ROOT, env=env,
                                stdout=log, stderr=log)
        try:
            eventually(lambda: (row := device_row(hub, "kiosk-main")) and row["status"] == "online",
                       timeout=20, what="the kiosk online on the dashboard")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0, (tmp_path / "kiosk.log").read_text()[-2000:]
        finally:
            proc.kill()
    eventually(lambda: (row := device_row(hub, "kiosk-main")) and row["status"] == "offline",
               what="the kiosk offline after SIGTERM")
