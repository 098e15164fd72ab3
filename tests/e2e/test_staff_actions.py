"""Staff actions at a window, through the real broker: recall, no-show, call back, pause, away."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from caller_display.main_screen import Call, MainScreen, window_text
from hub.app import Hub
from hub.db.schema import window_absences
from hub.rules import QueueRules
from hub.settings import HubSettings
from protocol.messages import (
    CaseFinished,
    ErrorReply,
    NoShowRecorded,
    TicketCalled,
    WindowChanged,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移 at 5号窗口 公安户政


def refused(reply: object, message: str) -> bool:
    return isinstance(reply, ErrorReply) and reply.message == message


@pytest.fixture
def screen(make_link: LinkFactory) -> MainScreen:
    s = MainScreen(lambda call: None)
    calls: list[Call] = []
    s.announce = calls.append
    make_link(DeviceClass.DISPLAY, "main-screen", on_state=s.on_state)
    return s


def announced(screen: MainScreen) -> list[str]:
    return [c.text for c in reversed(screen.recent)]


def test_recall_announces_again_up_to_the_limit(hub: Hub, make_link: LinkFactory,
                                                 tmp_path: Path, screen: MainScreen) -> None:
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    window.open()
    assert isinstance(window.call_next(), TicketCalled)
    for n in (1, 2):
        again = window.recall()
        assert isinstance(again, TicketCalled) and again.ticket.recalls == n
    eventually(lambda: len(screen.recent) == 3, what="three announcements")
    assert announced(screen) == ["请A001号到5号窗口办理"] * 3
    assert refused(window.recall(), "重呼次数已满，请标记过号")


def test_no_show_after_a_recall_frees_the_window(hub: Hub, make_link: LinkFactory,
                                                tmp_path: Path, screen: MainScreen) -> None:
    k = kiosk(make_link, tmp_path, hub)
    k.take_ticket(SERVICE)
    k.take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    window.open()
    window.call_next()
    assert refused(window.no_show(), "请先重呼，再标记过号")
    window.recall()
    gone = window.no_show()
    assert isinstance(gone, NoShowRecorded)
    assert gone.ticket.status == "no_show" and gone.window.status == "open"
    nxt = window.call_next()
    assert isinstance(nxt, TicketCalled) and nxt.ticket.number == "A002"
    q = eventually(lambda: screen.queue if screen.queue and screen.queue.called == 2 else None,
                   what="queue totals with the no-show")
    assert (q.waiting, q.no_show, q.issued) == (0, 1, 2)


def test_a_no_show_who_returns_is_called_back_by_number(hub: Hub, make_link: LinkFactory,
                                                        tmp_path: Path,
                                                        screen: MainScreen) -> None:
    k = kiosk(make_link, tmp_path, hub)
    k.take_ticket(SERVICE)
    k.take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    window.open()
    window.call_next()
    window.recall()
    window.no_show()
    assert refused(window.call_number("A002"), "该号码没有过号，不能补叫")  # still waiting
    assert refused(window.call_number("A099"), "今天没有这个号码")
    back = window.call_number("A001")
    assert isinstance(back, TicketCalled) and back.ticket.number == "A001"
    assert back.ticket.status == "called" and back.ticket.recalls == 0
    eventually(lambda: announced(screen)[-1:] == ["请A001号到5号窗口办理"]
               and len(screen.recent) == 3, what="the call back announced")
    assert isinstance(window.finish(), CaseFinished)


def test_call_back_only_within_the_halls_time(broker, hall_id: str, tmp_path: Path,
                                              make_link: LinkFactory,
                                              hub_settings: HubSettings) -> None:
    settings = hub_settings.model_copy(update={"rules": QueueRules(late_return_minutes=0)})
    hub = Hub(settings)
    hub.start()
    try:
        kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
        window = caller(make_link, WINDOW)
        window.open()
        window.call_next()
        window.recall()
        window.no_show()
        assert refused(window.call_number("A001"), "已超过过号补叫时限，请重新取号")
    finally:
        hub.stop()


def test_pause_shows_on_screen_blocks_calls_and_is_timed(hub: Hub, make_link: LinkFactory,
                                                        tmp_path: Path,
                                                        screen: MainScreen) -> None:
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    window.open()
    paused = window.pause("业务培训")
    assert isinstance(paused, WindowChanged) and paused.window.status == "paused"
    state = eventually(lambda: screen.windows.get(WINDOW) if screen.windows.get(WINDOW)
                       and screen.windows[WINDOW].status == "paused" else None,
                       what="the paused window on the main screen")
    assert window_text(state) == "暂停服务（业务培训）"
    assert state.paused_since is not None
    assert refused(window.call_next(), "窗口暂停服务中，请先恢复服务")
    resumed = window.resume()
    assert isinstance(resumed, WindowChanged) and resumed.window.status == "open"
    assert isinstance(window.call_next(), TicketCalled)
    assert refused(window.pause("午休"), "请先结束当前办件，再叫下一位")
    with hub.engine.connect() as conn:
        rows = conn.execute(select(window_absences)).all()
    assert [(r.kind, r.reason, r.ended_at is not None) for r in rows] == [
        ("pause", "业务培训", True)]


def test_a_post_away_is_recorded_with_its_post(hub: Hub, make_link: LinkFactory,
                                               screen: MainScreen) -> None:
    window = caller(make_link, WINDOW)
    window.open()
    away = window.step_away("B")
    assert isinstance(away, WindowChanged)
    assert (away.window.status, away.window.away_post) == ("away", "B")
    assert window_text(away.window) == "暂停服务 · 工作人员稍后回来"
    window.resume()
    window.close()
    with hub.engine.connect() as conn:
        rows = conn.execute(select(window_absences)).all()
    assert len(rows) == 1 and rows[0].kind == "away" and rows[0].post == "B"
    assert rows[0].ended_at >= rows[0].started_at
