"""叫号与广播 from the dashboard to the hall's speaker: a real broker, the hub, and the main
screen's own parts (MainScreen, the announcer writing WAV files, the broadcasts with
espeak-ng), as `python -m caller_display.hall_screen` wires them, without its pixels.

Calls are said with synthetic clips (a tone per clip, tests/caller_display/test_announcer.py),
so what a WAV says is read back from its sound; broadcasts are synthesized by espeak-ng.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from caller_display.adapters.audio import WavFilePlayer
from caller_display.hall_screen import Voice, voice_parts
from caller_display.settings import DisplaySettings
from caller_display.voice_clips import call_clips
from hallsim.broker import Broker
from hub.app import Hub
from hub.clock import ShiftedClock
from hub.settings import HubSettings
from kiosk.core import KioskCore
from protocol import topics
from protocol.link import new_client
from protocol.messages import Broadcast, CaseFinished, TicketCalled
from protocol.topics import DeviceClass
from tests.caller_display.test_announcer import frames_of, rms, said_clips, tone_dir
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import csrf_token, eventually, signed_in_client

__all__ = ["tone_dir"]  # the synthetic clips, a fixture

NOTICE = "各位办事群众：本中心午间不休息，请有序取号办理"


class Hall:
    """The hub, a kiosk, window 5, the main screen and a manager signed in to the dashboard."""

    def __init__(self, hub: Hub, make_link: LinkFactory, tmp_path: Path, tone_dir: Path) -> None:
        self.hub = hub
        self.kiosk: KioskCore = kiosk(make_link, tmp_path, hub)
        self.window = caller(make_link, 5)
        self.window.open()
        self.serving = False
        self.wav_dir = tmp_path / "wav"
        self.settings = DisplaySettings(  # the screen's own: twice, with a chime
            hall_id=hub.settings.hall_id, device_id="main-screen", data_dir=tmp_path / "display",
            clips_dir=tone_dir, player="file", wav_dir=self.wav_dir, repeat=2, chime=True)
        self.main = self.start_screen(make_link)
        self.web = signed_in_client(hub, "zhang")

    def start_screen(self, make_link: LinkFactory) -> Voice:
        parts = voice_parts(self.settings)
        link = make_link(DeviceClass.DISPLAY, "main-screen", on_state=parts.screen.on_state,
                         start=False)
        link.on_event = parts.screen.on_event
        link.start()
        assert link.wait_connected(10)
        eventually(lambda: parts.screen.voice is not None, what="the hub's voice settings")
        return parts

    @property
    def wavs(self) -> list[Path]:
        return WavFilePlayer(self.wav_dir).files

    def post(self, path: str, **form: str) -> tuple[int, str]:
        token = csrf_token(self.web.get("/announce").get_data(as_text=True))
        answer = self.web.post(path, data={**form, "csrf_token": token})
        if answer.status_code == 303:
            return 303, self.web.get(answer.headers["Location"]).get_data(as_text=True)
        return answer.status_code, answer.get_data(as_text=True)

    def call(self) -> str:
        """A ticket taken and called at window 5; its number once the screen has it."""
        assert self.kiosk.take_ticket("GA_HJQY").issued is not None
        if self.serving:
            assert isinstance(self.window.finish(), CaseFinished)
        self.serving = True
        called = self.window.call_next()
        assert isinstance(called, TicketCalled), called
        number = called.ticket.number
        eventually(lambda: any(c.number == number for c in self.main.screen.recent),
                   what=f"{number} on the main screen")
        return number

    def idle(self) -> None:
        if self.main.broadcast_voice is not None:
            assert self.main.broadcast_voice.wait_idle(30)
        assert self.main.announcer is not None and self.main.announcer.wait_idle(30)

    def close(self) -> None:
        if self.main.broadcast_voice is not None:
            self.main.broadcast_voice.close()
        if self.main.announcer is not None:
            self.main.announcer.close()


@pytest.fixture
def hall(hub: Hub, make_link: LinkFactory, tmp_path: Path, tone_dir: Path) -> Iterator[Hall]:
    h = Hall(hub, make_link, tmp_path, tone_dir)
    yield h
    h.close()


def test_a_call_is_said_as_managers_set_it_and_a_restarted_screen_follows(
        hall: Hall, make_link: LinkFactory) -> None:
    first = hall.call()  # the screen's own settings: a chime, then twice
    hall.idle()
    [wav] = hall.wavs
    said = said_clips(wav.read_bytes())
    assert len(said) == 19 and said[1:] == call_clips(first, 5) * 2  # the chime first

    status, page = hall.post("/announce/voice", repeat="1", quiet_hours="")  # chime unticked
    assert status == 303 and "每次叫号播报1遍，提示音关，静音时段：无" in page
    eventually(lambda: hall.main.announcer is not None and hall.main.announcer.repeat == 1,
               what="the main screen following the hub")
    second = hall.call()
    hall.idle()
    assert said_clips(hall.wavs[1].read_bytes()) == call_clips(second, 5)  # once, no chime

    # A main screen that restarts has the managers' settings from the broker at once.
    hall.close()
    hall.main = hall.start_screen(make_link)
    assert hall.main.announcer is not None
    assert (hall.main.announcer.repeat, hall.main.announcer.chime) == (1, False)

    # Back to each screen's own settings.
    status, page = hall.post("/announce/voice", reset="1")
    assert status == 303 and "已恢复大屏本机的播报设置" in page
    eventually(lambda: hall.main.announcer is not None and hall.main.announcer.repeat == 2,
               what="the screen's own settings again")
    assert hall.main.announcer.chime is True


def test_a_call_in_quiet_hours_is_shown_not_said(hall: Hall) -> None:
    hub_now = hall.hub.clock.local(hall.hub.clock.now())  # 09:00 on the hub's clock
    assert hub_now.hour == 9
    status, _ = hall.post("/announce/voice", repeat="2", chime="1",
                          quiet_hours="08:30-09:30\n12:00-13:30")
    assert status == 303
    announcer = hall.main.announcer
    assert announcer is not None
    eventually(lambda: len(announcer.quiet_hours) == 2, what="the quiet hours on the screen")
    number = hall.call()
    hall.idle()
    assert hall.main.screen.recent[0].number == number  # shown
    assert hall.wavs == [] and announcer.stats.quiet == 1  # not said

    clock = hall.hub.clock
    assert isinstance(clock, ShiftedClock)
    clock.set_local(datetime(2026, 11, 24, 9, 30))  # the end is not quiet any more
    hall.call()
    hall.idle()
    assert len(hall.wavs) == 1


def test_play_now_shows_the_text_and_says_it_once_however_often_it_comes(
        hall: Hall, broker: Broker, hub_settings: HubSettings) -> None:
    number = hall.call()
    status, page = hall.post("/announce/broadcasts", text=NOTICE, times="", action="play")
    assert status == 303 and "广播已发送到大屏" in page
    broadcasts = hall.main.screen.broadcasts
    eventually(lambda: broadcasts.shown() == NOTICE, what="the broadcast on the screen")
    hall.idle()
    wavs = hall.wavs
    assert len(wavs) == 2, "the call, then the broadcast"
    assert said_clips(wavs[0].read_bytes())[-9:] == call_clips(number, 5)
    spoken = frames_of(wavs[1].read_bytes())
    assert len(spoken) / 22050 > 3 and rms(spoken) > 1000  # espeak-ng said the text

    # QoS 1 may deliver it again (a resend with the same id): shown and said once.
    sent = broadcasts.current
    assert sent is not None and sent.id.startswith("n-")
    again = new_client(broker.settings_for(DeviceClass.HUB), "hub-again")
    settings = broker.settings_for(DeviceClass.HUB)
    again.connect(settings.host, settings.port)
    again.loop_start()
    try:
        for _ in range(2):
            again.publish(topics.broadcast_topic(hub_settings.hall_id), sent.model_dump_json(),
                          qos=1).wait_for_publish(5)
        other = Broadcast(id="n-other", text="今日取号将于17:00结束", at=sent.at)
        again.publish(topics.broadcast_topic(hub_settings.hall_id), other.model_dump_json(),
                      qos=1).wait_for_publish(5)
    finally:
        again.disconnect()
        again.loop_stop()
    eventually(lambda: broadcasts.shown() == other.text, what="the next broadcast")
    hall.idle()
    assert broadcasts.received == 2 and len(hall.wavs) == 3


def test_a_saved_broadcast_plays_at_its_time_on_working_days(hall: Hall) -> None:
    status, page = hall.post("/announce/broadcasts", text=NOTICE, times="11:50 16:50",
                             action="save")
    assert status == 303 and "已保存到广播列表：工作日11:50、16:50播放" in page
    clock, broadcasts = hall.hub.clock, hall.main.screen.broadcasts
    assert isinstance(clock, ShiftedClock)

    def wait_past(local: datetime, seconds: float = 1.5) -> None:
        clock.set_local(local)
        time.sleep(seconds)  # the hub looks at its schedule ten times a second

    wait_past(datetime(2026, 11, 28, 11, 49, 59))  # a Saturday: no broadcast
    wait_past(datetime(2026, 11, 24, 11, 40))  # a working day, before its time
    assert broadcasts.received == 0

    clock.set_local(datetime(2026, 11, 24, 11, 49, 59))
    eventually(lambda: broadcasts.received == 1, timeout=5, what="the 11:50 broadcast")
    assert broadcasts.current is not None
    assert (broadcasts.current.id, broadcasts.current.text) == ("s1-202611241150", NOTICE)
    assert broadcasts.shown() == NOTICE
    wait_past(datetime(2026, 11, 24, 11, 51))  # once
    hall.idle()
    assert broadcasts.received == 1 and len(hall.wavs) == 1
    viewer = signed_in_client(hall.hub, "li", "viewer")  # the clock's jumps ended zhang's session
    page = viewer.get("/announce").get_data(as_text=True)
    assert "2026-11-24 11:50" in page  # 最近定时播放

    # A holiday a manager entered is no working day either.
    hall.hub.live.set_calendar_days({date(2026, 11, 25): (False, "停电闭馆")}, "zhang")
    wait_past(datetime(2026, 11, 25, 11, 49, 59))
    assert broadcasts.received == 1
    clock.set_local(datetime(2026, 11, 26, 16, 49, 59))
    eventually(lambda: broadcasts.received == 2, timeout=5, what="Thursday's 16:50 broadcast")
    assert broadcasts.current is not None and broadcasts.current.id == "s1-202611261650"
