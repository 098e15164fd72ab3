"""The device registry's rules on a real SQLite file, without a broker: what the live hall
says of each device (离线, 未上线, a printer's trouble, names, problems first), when the hub
records a device online (coming up and going away, not every printer report) and what it
remembers over a restart and past midnight, the names it suggests, and the audit's words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Engine, select

from hub import device_registry as registry
from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import ShiftedClock
from hub.db.engine import dispose, make_engine, migrate
from hub.db.schema import device_sightings
from hub.device_watch import DeviceWatch, OnlineDevice
from hub.state_feed import StateFeed
from hub.web.admin_pages import change_text
from hub.web.devices_page import seen_text
from protocol.errors import UserError
from protocol.messages import DeviceStatus
from protocol.topics import DeviceClass

T = TypeVar("T")
ONLINE, OFFLINE = DeviceStatus(status="online"), DeviceStatus(status="offline")
MORNING = datetime(2026, 11, 24, 9, 0)  # a Tuesday, the hall's time


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    migrate(e)
    with e.begin() as conn:
        sync_catalogue(conn, load_catalogue(), datetime(2026, 11, 24, 1, 0))
    yield e
    dispose(e)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock("Asia/Shanghai", MORNING)


def here(engine: Engine) -> Callable[..., Any]:
    """Jobs run at once in their own transaction (what the hub's thread does between two
    batches; no broker here)."""
    def run(job: Callable[[Connection], T], after: Callable[[T], None] | None = None,
            timeout: float = 10.0) -> T:
        with engine.begin() as conn:
            result = job(conn)
        if after is not None:
            after(result)
        return result
    return run


def watch(engine: Engine, clock: ShiftedClock) -> tuple[DeviceWatch, StateFeed]:
    feed = StateFeed(today=clock.service_day)
    return DeviceWatch(engine, feed, clock, here(engine)), feed


def rows(feed: StateFeed) -> list[tuple[str, str | None, str | None]]:
    """(id, name, problem) of each device as the live hall lists them, in order."""
    return [(d["device_id"], d["name"], d["problem"]) for d in feed.snapshot()[1]["devices"]]


def sighting(engine: Engine, device_id: str) -> datetime | None:
    with engine.connect() as conn:
        return conn.scalar(select(device_sightings.c.online_at)
                           .where(device_sightings.c.device_id == device_id))


def test_the_live_hall_lists_problems_first_and_registered_devices_by_name(
        engine: Engine, clock: ShiftedClock) -> None:
    w, feed = watch(engine, clock)
    w.add("kiosk", "kiosk-10", "10号取号机", "", "", "zhang")
    w.add("kiosk", "kiosk-2", "2号取号机", "", "", "zhang")
    w.add("display", "main-screen", "大厅综合屏", "", "", "zhang")
    for device in ("kiosk-10", "kiosk-2"):
        w.on_status(DeviceClass.KIOSK, device, ONLINE, retained=False)
    w.on_status(DeviceClass.KIOSK, "kiosk-9", ONLINE, retained=False)  # not registered
    w.on_status(DeviceClass.CALLER, "caller-3", OFFLINE, retained=True)  # not registered
    w.on_status(DeviceClass.KIOSK, "kiosk-10",
                ONLINE.model_copy(update={"printer": "no_paper"}), retained=False)
    assert rows(feed) == [
        ("kiosk-10", "10号取号机", "打印机缺纸"),
        ("caller-3", None, "离线"),  # unregistered: offline, as before the registry
        ("main-screen", "大厅综合屏", "未上线"),  # registered, never seen
        ("kiosk-2", "2号取号机", None),
        ("kiosk-9", None, None),
    ]
    row = feed.snapshot()[1]["devices"][0]
    assert set(row) == {"device_class", "class_zh", "device_id", "name", "status", "printer",
                        "problem", "seen_at"}, "the event stays small: no detail, no version"
    assert row["seen_at"].startswith("2026-11-24T09:00") and row["seen_at"].endswith("+08:00")


def test_online_times_are_recorded_when_a_device_comes_and_goes_and_kept_over_a_restart(
        engine: Engine, clock: ShiftedClock) -> None:
    w, feed = watch(engine, clock)
    w.add("kiosk", "kiosk-1", "1号取号机", "", "", "zhang")
    w.on_status(DeviceClass.KIOSK, "kiosk-1", ONLINE, retained=True)  # up before the hub
    came = sighting(engine, "kiosk-1")
    assert came is not None
    clock.offset += timedelta(minutes=30)
    w.on_status(DeviceClass.KIOSK, "kiosk-1", ONLINE.model_copy(update={"printer": "paper_low"}),
                retained=False)
    assert sighting(engine, "kiosk-1") == came, "a printer report writes nothing"
    clock.offset += timedelta(minutes=30)
    w.on_status(DeviceClass.KIOSK, "kiosk-1", OFFLINE, retained=False)
    went = sighting(engine, "kiosk-1")
    assert went is not None and went - came >= timedelta(minutes=59)
    assert rows(feed) == [("kiosk-1", "1号取号机", "离线")]

    again, feed = watch(engine, clock)  # the hub restarts; the broker kept "offline"
    assert rows(feed) == [("kiosk-1", "1号取号机", "离线")], "seen today: offline, not missing"
    again.on_status(DeviceClass.KIOSK, "kiosk-1", OFFLINE, retained=True)
    assert sighting(engine, "kiosk-1") == went, "a status kept from before changes nothing"
    assert feed.snapshot()[1]["devices"][0]["seen_at"] == clock.local(went).isoformat()
    registered, _ = again.listing()
    assert (registered[0].state_zh, registered[0].seen_at) == ("离线", clock.local(went))

    clock.offset += timedelta(days=1)  # the next morning it has not come up
    assert rows(feed) == [("kiosk-1", "1号取号机", "未上线")]
    registered, _ = again.listing()
    assert registered[0].state_zh == "今天未上线"


def test_a_hub_that_stops_records_the_devices_online_until_then(
        engine: Engine, clock: ShiftedClock) -> None:
    w, _ = watch(engine, clock)
    w.add("kiosk", "kiosk-1", "1号取号机", "", "", "zhang")
    w.on_status(DeviceClass.KIOSK, "kiosk-1", ONLINE, retained=False)
    w.on_status(DeviceClass.KIOSK, "kiosk-2", OFFLINE, retained=True)
    clock.offset += timedelta(days=1)  # up since yesterday morning, the hub stops today
    before = clock.now()
    w.close()
    assert before <= sighting(engine, "kiosk-1") <= clock.now()  # type: ignore[operator]
    assert sighting(engine, "kiosk-2") is None
    again, feed = watch(engine, clock)  # it went away while the hub was down
    again.on_status(DeviceClass.KIOSK, "kiosk-1", OFFLINE, retained=True)
    assert rows(feed) == [("kiosk-1", "1号取号机", "离线")], "up today: offline, not missing"


def test_an_unregistered_device_is_offered_with_a_suggested_name(
        engine: Engine, clock: ShiftedClock) -> None:
    w, _ = watch(engine, clock)
    w.on_status(DeviceClass.GUIDE, "guide-desk", ONLINE, retained=False)
    w.on_status(DeviceClass.CALLER, "caller-5", OFFLINE, retained=False)
    w.on_status(DeviceClass.KIOSK, "kiosk-3", ONLINE.model_copy(update={
        "printer": "error", "detail": "paper jam"}), retained=False)
    registered, others = w.listing()
    assert registered == []
    assert [(d.device_id, d.class_zh, d.state_zh, d.problems, d.suggestion) for d in others] == [
        ("kiosk-3", "取号机", "在线", ("打印机故障",), "3号取号机"),
        ("caller-5", "窗口叫号器", "离线", (), "5号窗口叫号器"),
        ("guide-desk", "导办台", "在线", (), "导办台 guide-desk"),
    ]
    assert others[0].detail == "paper jam"
    assert w.register_all("zhang") == ["3号取号机", "5号窗口叫号器", "导办台 guide-desk"]
    assert w.listing()[1] == [] and w.register_all("zhang") == []


def test_suggested_names_never_repeat_and_follow_the_halls_windows(engine: Engine) -> None:
    now = datetime(2026, 11, 24, 1, 0)
    with engine.begin() as conn:
        assert registry.suggested_name(conn, ("caller", "caller-99")) == "窗口叫号器 caller-99"
        assert registry.suggested_name(conn, ("kiosk", "kiosk-1234")) == "取号机 kiosk-1234"
        assert registry.suggested_name(conn, ("kiosk", "east-01")) == "1号取号机"
        registry.add_device(conn, "kiosk", "kiosk-a", "1号取号机", "", "", "zhang", now)
        assert registry.suggested_name(conn, ("kiosk", "kiosk-1")) == "取号机 kiosk-1"
        registry.add_device(conn, "kiosk", "kiosk-b", "取号机 kiosk-1", "", "", "zhang", now)
        assert registry.suggested_name(conn, ("kiosk", "kiosk-1")) == "取号机 kiosk-1（新）"


def test_text_is_tidied_and_an_id_is_stored_in_lower_case(engine: Engine) -> None:
    now = datetime(2026, 11, 24, 1, 0)
    with engine.begin() as conn:
        assert registry.add_device(conn, "kiosk", " Kiosk-East ", "  东门   取号机 ",
                                   " 东门 ", "", "zhang", now) == "kiosk-east"
        listed = registry.read_registry(conn)
    assert [(r.device_id, r.name, r.location) for r in listed] == [
        ("kiosk-east", "东门 取号机", "东门")]
    for bad, message in ((("kiosk", "-k", "x"), "设备编号须为"),
                         (("kiosk", "k" * 33, "x"), "设备编号须为"),
                         (("kiosk", "", "x"), "请填写设备编号"),
                         (("hub", "hub-1", "x"), "没有这种设备类型：hub")):
        with pytest.raises(UserError) as refused, engine.begin() as conn:
            registry.add_device(conn, *bad, "", "", "zhang", now)
        assert message in refused.value.zh


def test_removing_an_online_device_needs_a_second_word(engine: Engine,
                                                       clock: ShiftedClock) -> None:
    w, feed = watch(engine, clock)
    w.add("kiosk", "kiosk-1", "1号取号机", "", "", "zhang")
    w.on_status(DeviceClass.KIOSK, "kiosk-1", ONLINE, retained=False)
    with pytest.raises(OnlineDevice):
        w.remove("kiosk-1", "zhang")
    assert rows(feed) == [("kiosk-1", "1号取号机", None)]
    assert w.remove("kiosk-1", "zhang", confirmed=True).name == "1号取号机"
    assert rows(feed) == [("kiosk-1", None, None)], "still shown, by its id"


@pytest.mark.parametrize(("ago", "shown"), [
    (timedelta(seconds=20), "刚刚"), (timedelta(minutes=3), "3分钟前"),
    (timedelta(minutes=59, seconds=59), "59分钟前"), (timedelta(hours=2), "今天 08:00"),
    (timedelta(hours=11), "昨天 23:00"), (timedelta(days=3), "11月21日 10:00"),
    (timedelta(days=400), "2025年10月20日"),
])
def test_last_seen_in_words(ago: timedelta, shown: str) -> None:
    now = datetime(2026, 11, 24, 10, 0)
    assert seen_text(now - ago, now) == shown
    assert seen_text(None, now) == "从未上线"


def test_the_audit_page_says_a_device_change_in_words() -> None:
    assert change_text({"device_name": "东门1号取号机", "device_class": "kiosk",
                        "location": "东门", "note": ""}) == \
        "设备名称：东门1号取号机；设备类型：取号机；安装位置：东门；备注："
