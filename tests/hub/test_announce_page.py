"""叫号与广播 on the dashboard (/announce): administrators and managers change it, viewers read
it, others never see it; a wrong form is refused in Chinese with what was typed kept and
nothing changed; every change is in the audit log in words; the main screens' voice is a
retained state the hub keeps over a restart; a broadcast reaches only the main screens."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hallsim.broker import Broker
from hub.app import Hub
from hub.db.schema import audit_log, hall_texts
from hub.settings import HubSettings
from protocol import topics
from protocol.link import State, new_client
from protocol.messages import Broadcast, VoiceSettings
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.helpers import Seen, csrf_token, signed_in_client

NOTICE = "今日取号将于17:00结束，请合理安排办事时间"


def post(web: FlaskClient, path: str, **form: str) -> tuple[int, str]:
    token = csrf_token(web.get("/announce").get_data(as_text=True))
    answer = web.post(path, data={**form, "csrf_token": token})
    if answer.status_code == 303:
        return 303, web.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.status_code, answer.get_data(as_text=True)


def changes(hub: Hub) -> tuple[int, int]:
    """Audit lines and kept texts: a refusal leaves both as they were."""
    with hub.engine.connect() as conn:
        return (int(conn.scalar(select(func.count()).select_from(audit_log).where(
                    audit_log.c.action.startswith("voice")
                    | audit_log.c.action.startswith("broadcast"))) or 0),
                int(conn.scalar(select(func.count()).select_from(hall_texts)) or 0))


def test_who_sees_and_changes_it(hub: Hub) -> None:
    manager = signed_in_client(hub, "zhang")
    page = manager.get("/announce").get_data(as_text=True)
    assert "叫号播报" in page and "立即播放" in page and 'name="quiet_hours"' in page
    assert "当前：各大屏按本机设置播报" in page
    viewer = signed_in_client(hub, "li", "viewer")
    read = viewer.get("/announce").get_data(as_text=True)
    assert "叫号播报" in read and "广播列表" in read
    assert "<form method=\"post\" action=\"/announce" not in read  # nothing to change
    token = csrf_token(read)
    for path in ("/announce/voice", "/announce/broadcasts"):
        assert viewer.post(path, data={"csrf_token": token, "repeat": "1", "text": NOTICE,
                                       "action": "play"}).status_code == 403
    for role in ("department", "guide"):
        other = signed_in_client(hub, f"u-{role}", role, "GA" if role == "department" else None)
        assert other.get("/announce").status_code == 403
    admin = signed_in_client(hub, "root", "admin")
    assert post(admin, "/announce/voice", repeat="3", chime="1", quiet_hours="")[0] == 303
    assert changes(hub)[0] == 1


def test_a_wrong_form_is_refused_in_chinese_and_changes_nothing(hub: Hub) -> None:
    web = signed_in_client(hub)
    before = changes(hub)
    status, page = post(web, "/announce/voice", repeat="5", chime="1",
                        quiet_hours="12:00-13:30\n午休")
    assert status == 400 and "叫号播报未修改：播报次数只能是1到3遍" in page
    assert "12:00-13:30\n午休</textarea>" in page  # as typed
    status, page = post(web, "/announce/voice", repeat="1", quiet_hours="12:00-25:00")
    assert status == 400 and "静音时段“12:00-25:00”格式有误，请写成12:00-13:30" in page
    assert '<option value="1" selected>' in page and 'name="chime" value="1">' in page

    long = "各位办事群众" * 14  # 84 characters
    status, page = post(web, "/announce/broadcasts", text=long, times="11:50", action="play")
    assert status == 400 and "广播未发出：广播内容最多80字（现有84字）" in page
    assert f'value="{long}"' in page and 'value="11:50"' in page
    status, page = post(web, "/announce/broadcasts", text=NOTICE, times="11点50",
                        action="save")
    assert status == 400 and "播放时间“11点50”格式有误，请写成11:50" in page
    status, page = post(web, "/announce/broadcasts", text="请13912345678到导办台",
                        action="play")
    assert status == 400 and "不能包含手机号码或身份证号码" in page
    status, page = post(web, "/announce/broadcasts/9/play")
    assert status == 400 and "没有这条广播" in page
    assert changes(hub) == before
    assert hub.voice.voice().is_screens_own and hub.voice.saved() == []


def test_each_change_is_in_the_audit_log_in_words(hub: Hub) -> None:
    web = signed_in_client(hub, "zhang")
    assert post(web, "/announce/voice", repeat="1", quiet_hours="12:00-13:30")[0] == 303
    status, page = post(web, "/announce/broadcasts", text=NOTICE, times="16:50 11:50",
                        action="save")
    assert status == 303 and "工作日11:50、16:50播放" in page
    assert NOTICE in page and "11:50、16:50" in page
    [saved] = hub.voice.saved()
    status, page = post(web, f"/announce/broadcasts/{saved.id}/edit", text=NOTICE, times="")
    assert status == 303 and "仅手动播放" in page
    assert post(web, f"/announce/broadcasts/{saved.id}/play")[0] == 303
    assert post(web, "/announce/broadcasts", text="午间请到1号窗口取号", action="play")[0] == 303
    assert post(web, f"/announce/broadcasts/{saved.id}/delete")[0] == 303
    status, page = post(web, "/announce/voice", reset="1")
    assert status == 303 and "当前：各大屏按本机设置播报" in page

    log = web.get("/audit?who=zhang").get_data(as_text=True)
    for shown in ("修改叫号播报", "播报次数：大屏本机设置", "播报次数：1遍", "提示音：否",
                  "静音时段：12:00-13:30", "添加广播", f"广播内容：{NOTICE}",
                  "播放时间：11:50、16:50", "修改广播", "播放时间：（仅手动播放）", "立即播放广播",
                  "广播内容：午间请到1号窗口取号", "删除广播", "叫号播报恢复大屏设置"):
        assert shown in log, shown
    with hub.engine.connect() as conn:
        actions = [r.action for r in conn.execute(
            select(audit_log.c.action).where(audit_log.c.who == "zhang")
            .order_by(audit_log.c.id))]
    assert actions == ["signin", "voice.set", "broadcast.add", "broadcast.edit",
                       "broadcast.play", "broadcast.play", "broadcast.delete", "voice.reset"]


def test_the_voice_is_retained_and_kept_over_a_hub_restart(
        hub_settings: HubSettings, make_link: LinkFactory) -> None:
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        seen: Seen[State] = Seen()
        make_link(DeviceClass.CALLER, "caller-5", on_state=lambda s, live: seen(s))  # any device
        first = seen.wait(lambda s: isinstance(s, VoiceSettings))
        assert first == VoiceSettings(updated_at=first.updated_at)  # the screens' own
        web = signed_in_client(hub)
        assert post(web, "/announce/voice", repeat="1", quiet_hours="12:00-13:30")[0] == 303
        voice = seen.wait(lambda s: isinstance(s, VoiceSettings) and s.repeat == 1)
        assert isinstance(voice, VoiceSettings) and voice.chime is False
        assert voice.quiet_hours is not None and len(voice.quiet_hours) == 1
    finally:
        hub.stop()
    again = Hub(hub_settings)  # the same database
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        later: Seen[State] = Seen()
        make_link(DeviceClass.DISPLAY, "main-screen", on_state=lambda s, live: later(s))
        kept = later.wait(lambda s: isinstance(s, VoiceSettings))
        assert isinstance(kept, VoiceSettings) and (kept.repeat, kept.chime) == (1, False)
        assert "当前：每次叫号播报1遍，提示音关，静音时段：12:00-13:30" in \
            signed_in_client(again, "li").get("/announce").get_data(as_text=True)
    finally:
        again.stop()


def test_a_broadcast_reaches_the_main_screens_only(hub: Hub, broker: Broker,
                                                   make_link: LinkFactory) -> None:
    screen: Seen[Broadcast] = Seen()
    display = make_link(DeviceClass.DISPLAY, "main-screen", start=False)
    display.on_event = screen
    display.start()
    assert display.wait_connected(10)
    got: list[bytes] = []
    subscribed = threading.Event()
    settings = broker.settings_for(DeviceClass.KIOSK)  # a kiosk asking for the events anyway
    nosy = new_client(settings, "kiosk-9")

    def on_connect(client: mqtt.Client, *_: Any) -> None:
        client.subscribe(topics.events_filter(hub.settings.hall_id), qos=1)

    nosy.on_connect = on_connect
    nosy.on_subscribe = lambda *_: subscribed.set()
    nosy.on_message = lambda c, u, m: got.append(m.payload)
    nosy.connect(settings.host, settings.port)
    nosy.loop_start()
    try:
        assert subscribed.wait(5)
        assert post(signed_in_client(hub), "/announce/broadcasts", text=NOTICE,
                    action="play")[0] == 303
        said = screen.wait(lambda b: True)
        assert said.text == NOTICE and said.id.startswith("n-")
        assert said.at.utcoffset() is not None  # the hub's time, in the hall's zone
        time.sleep(0.5)  # had the broker let the kiosk read it, it would be here by now
        assert got == []
    finally:
        nosy.disconnect()
        nosy.loop_stop()
