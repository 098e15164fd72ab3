"""The main screen's call band and list, on a clock the test moves: how long a call stays
highlighted, how a burst waits its turn, and what the list keeps; and the screen's texts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from caller_display.call_board import (
    CONNECTING,
    OFFLINE,
    STORAGE_FULL,
    CallBoard,
    banner_text,
    clock_text,
    paused_text,
    waiting_rows,
    window_name,
)
from caller_display.main_screen import Call
from protocol.messages import QueueState, ServiceQueue

HIGHLIGHT_S, MIN_S = 8.0, 1.5


class FakeClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def board(clock: FakeClock) -> CallBoard:
    return CallBoard(highlight_s=HIGHLIGHT_S, min_highlight_s=MIN_S, keep=4, clock=clock)


def timeline(board: CallBoard, clock: FakeClock, seconds: float, step: float = 0.1
             ) -> list[tuple[str | None, float]]:
    """What the band highlights as time passes (the screen updates every `step`):
    (number or None, when it started), one entry per change."""
    current = board.current
    seen = [(current.number if current else None, 0.0)]
    start = clock.now
    while clock.now - start < seconds:
        clock.now = round(clock.now + step, 6)
        if board.update():
            current = board.current
            seen.append((current.number if current else None, round(clock.now - start, 3)))
    return seen


def test_a_call_is_highlighted_at_once_for_highlight_s_then_the_band_is_calm(
        board: CallBoard, clock: FakeClock) -> None:
    a005 = Call("A005", 3, 1)
    board.add(a005)
    assert board.current == a005 and board.waiting == []
    assert timeline(board, clock, 10) == [("A005", 0.0), (None, HIGHLIGHT_S)]
    assert board.current is None
    assert board.last == a005  # the calm band still shows it
    assert board.recent == [a005]


def test_a_burst_waits_its_turn_each_call_up_at_least_the_minimum(
        board: CallBoard, clock: FakeClock) -> None:
    calls = [Call(f"A00{i}", i, 1) for i in range(1, 5)]
    for call in calls:
        board.add(call)
    assert board.current == calls[0]
    assert board.waiting == calls[1:]
    assert board.recent == calls[::-1]  # every call listed at once, newest first
    assert timeline(board, clock, 20) == [
        ("A001", 0.0), ("A002", MIN_S), ("A003", 2 * MIN_S), ("A004", 3 * MIN_S),
        (None, 3 * MIN_S + HIGHLIGHT_S)]  # the last one, with nobody waiting: the full time


def test_a_rush_keeps_the_band_near_the_calls_and_lists_every_call(clock: FakeClock) -> None:
    board = CallBoard(highlight_s=HIGHLIGHT_S, min_highlight_s=MIN_S, keep=12, max_queued=3,
                      clock=clock)
    calls = [Call(f"A{i:03}", i, 1) for i in range(1, 11)]  # ten windows call at once
    for call in calls:
        board.add(call)
    assert board.current == calls[0]
    assert board.waiting == calls[-3:]  # the three latest wait; A002-A007 are listed only
    assert board.recent == calls[::-1]
    assert [n for n, _ in timeline(board, clock, 30)] == ["A001", "A008", "A009", "A010",
                                                          None]


def test_a_call_is_never_pushed_off_within_the_minimum(board: CallBoard,
                                                        clock: FakeClock) -> None:
    board.add(Call("A001", 1, 1))
    clock.now += 0.4
    board.add(Call("B001", 2, 1))  # 0.4 s later
    assert board.current is not None and board.current.number == "A001"
    assert timeline(board, clock, 2)[1] == ("B001", MIN_S - 0.4)
    clock.now += 5
    board.add(Call("C001", 3, 1))  # B001 has been up long enough: C001 at once
    assert board.current is not None and board.current.number == "C001"


def test_a_recall_while_highlighted_is_highlighted_again_in_full(board: CallBoard,
                                                               clock: FakeClock) -> None:
    board.add(Call("A005", 3, 1))
    clock.now += 6
    board.add(Call("A005", 3, 2))  # 重呼
    assert board.waiting == [] and board.recent == [Call("A005", 3, 2)]
    assert timeline(board, clock, 10) == [("A005", 0.0), (None, HIGHLIGHT_S)]


def test_a_window_calling_again_replaces_its_call_still_waiting(board: CallBoard) -> None:
    board.add(Call("A001", 1, 1))
    board.add(Call("B001", 2, 1))
    board.add(Call("B002", 2, 2))  # window 2 moved on before B001 reached the band
    assert [c.number for c in board.waiting] == ["B002"]
    assert [c.number for c in board.recent] == ["B002", "B001", "A001"]  # B001 was called


def test_old_calls_stay_listed_with_their_windows_newest_first(board: CallBoard,
                                                               clock: FakeClock) -> None:
    for i in range(1, 7):
        board.add(Call(f"A00{i}", 10 + i, 1))
        clock.now += 10
        board.update()
    assert board.current is None
    assert [(c.number, window_name(c.window)) for c in board.recent] == [
        ("A006", "16号窗口"), ("A005", "15号窗口"), ("A004", "14号窗口"),
        ("A003", "13号窗口")]  # keep=4


def test_a_number_called_to_another_window_is_listed_once_at_the_new_one(
        board: CallBoard) -> None:
    board.add(Call("A001", 5, 1))
    board.add(Call("B001", 1, 1))
    board.add(Call("A001", 12, 2))  # transferred, then called at window 12
    assert [(c.number, c.window) for c in board.recent] == [("A001", 12), ("B001", 1)]


def test_the_board_refuses_a_highlight_shorter_than_its_minimum() -> None:
    with pytest.raises(ValueError):
        CallBoard(highlight_s=1.0, min_highlight_s=2.0)
    with pytest.raises(ValueError):
        CallBoard(min_highlight_s=0)


def test_paused_windows_spelled_out_or_in_one_short_line() -> None:
    assert paused_text([]) == ""
    assert paused_text([5]) == "5号窗口 暂停服务"
    assert paused_text([5, 7]) == "5号窗口 暂停服务　　7号窗口 暂停服务"
    assert paused_text(list(range(1, 41))).startswith("暂停服务：1、2、3、")
    assert paused_text(list(range(1, 41))).endswith("、40号窗口")


def test_waiting_rows_list_services_waited_for_or_open_in_prefix_order() -> None:
    def service(code: str, name: str, prefix: str, waiting: int, open_windows: int
                ) -> ServiceQueue:
        return ServiceQueue(service=code, name=name, prefix=prefix, waiting=waiting,
                            open_windows=open_windows)

    queue = QueueState(service_day=date(2026, 5, 11), issued=9, waiting=5, called=2,
                       finished=1, windows_open=2, updated_at=datetime.now(UTC), services=[
                           service("SW_FPLY", "发票领用", "G", 2, 0),
                           service("GA_HJQY", "户口迁移", "A", 3, 1),
                           service("GA_CSDJ", "出生登记（新生儿落户）", "A", 0, 1),
                           service("BDC_CX", "不动产登记资料查询", "F", 0, 0),  # nobody, shut
                           service("BDC_ZY", "不动产转移登记（存量房买卖）", "F", 0, 1),
                           service("BDC_ZX", "不动产转移登记（其他）", "F", 0, 1)])
    assert waiting_rows(queue) == [
        ("出生登记", 0, True), ("户口迁移", 3, True),
        ("不动产转移登记（其他）", 0, True), ("不动产转移登记（存量房买卖）", 0, True),
        ("发票领用", 2, False)]  # two names alike keep their brackets
    assert waiting_rows(None) == []


def test_the_clock_in_the_title_bar() -> None:
    assert clock_text(datetime(2026, 5, 11, 9, 30, 5)) == "2026年5月11日 星期一  09:30:05"


def test_the_band_under_the_title_connecting_away_or_unable_to_issue() -> None:
    assert banner_text(None, None, True) == CONNECTING
    assert banner_text(False, None, True) == OFFLINE
    assert banner_text(True, None, False) == OFFLINE  # the screen's own link is down
    assert banner_text(True, "storage_full", True) == STORAGE_FULL
    assert STORAGE_FULL == "系统维护中，暂停取号，请到导办台咨询"
    assert banner_text(True, None, True) == ""
