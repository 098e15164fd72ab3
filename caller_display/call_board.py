"""What the main screen highlights and lists, and when, and its other texts: no Kivy, and a
clock you can give.

A new call is highlighted (the large coloured band, 请A005号到3号窗口办理) for
`highlight_s`. A call that comes while another is highlighted waits its turn: the one
highlighted gives way once it has been up `min_highlight_s`, so no call is pushed off
before it can be read, and a burst goes through the band one call at a time. A waiting
call that its window replaces (called again, or a next number) leaves the line: the band
shows what the window wants now. At most `max_queued` calls wait for the band: in a rush
the oldest waiting one leaves the line (it stays in the list, and it is spoken), so the band
never falls minutes behind the calls.

The list (号码 | 窗口) takes every call as it comes, newest first, so a call waiting for
the band is on the screen already. A number has one row, at the window it was called to
last: after a transfer the old window would send the citizen to the wrong place.

Windows are named by their number only, never by who works there.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from caller_display.main_screen import Call
from protocol.messages import QueueState

WEEKDAYS = "一二三四五六日"
OFFLINE = "系统维护中，请留意窗口叫号"
STORAGE_FULL = "系统维护中，暂停取号，请到导办台咨询"  # the hub's disk is full
CONNECTING = "正在连接叫号系统…"
NO_CALL = "请留意叫号"


def clock_text(now: datetime) -> str:
    """The title bar's clock: "2026年5月11日 星期一  09:30:05"."""
    return (f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}  "
            f"{now:%H:%M:%S}")


def banner_text(hub_online: bool | None, hub_problem: str | None, link_up: bool) -> str:
    """The band under the title: connecting, the hub away or unable to work; "" for none."""
    if hub_online is None:  # nothing heard from the hub yet
        return CONNECTING
    if not hub_online or not link_up:
        return OFFLINE
    return STORAGE_FULL if hub_problem == "storage_full" else ""


def window_name(window: int) -> str:
    """A window as the hall's signs name it: 3号窗口."""
    return f"{window}号窗口"


def paused_text(windows: list[int], spelled_out: int = 4) -> str:
    """Windows where nobody is called: each spelled out (5号窗口 暂停服务), or when there
    are more than `spelled_out`, one short line (暂停服务：1、2、5号窗口); "" for none."""
    if not windows:
        return ""
    if len(windows) <= spelled_out:
        return "　　".join(f"{window_name(w)} 暂停服务" for w in windows)
    return f"暂停服务：{'、'.join(str(w) for w in windows)}号窗口"


QUALIFIER = re.compile(r"（[^（）]*）$")  # 出生登记（新生儿落户）: the part in brackets


def waiting_rows(queue: QueueState | None) -> list[tuple[str, int, bool]]:
    """(service name, waiting, a window open for it) of the services worth a line: those
    with somebody waiting or a window open, in the catalogue's order (by ticket prefix).
    A name loses its bracketed qualifier where that leaves it unique: the lines are short."""
    if queue is None:
        return []
    shown = [s for s in queue.services if s.waiting > 0 or s.open_windows > 0]
    shown.sort(key=lambda s: (s.prefix, s.service))
    short = [QUALIFIER.sub("", s.name) for s in shown]
    names = [n if short.count(n) == 1 else s.name for n, s in zip(short, shown, strict=True)]
    return [(n, s.waiting, s.open_windows > 0) for n, s in zip(names, shown, strict=True)]


class CallBoard:
    """The highlighted call, the calls waiting for the band, and the recent calls."""

    def __init__(self, *, highlight_s: float = 8.0, min_highlight_s: float = 1.5,
                 keep: int = 12, max_queued: int = 3,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < min_highlight_s <= highlight_s:
            raise ValueError(f"need 0 < min_highlight_s ({min_highlight_s}) <= highlight_s "
                             f"({highlight_s})")
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.highlight_s = highlight_s
        self.min_highlight_s = min_highlight_s
        self.keep = keep
        self.max_queued = max(1, max_queued)
        self.clock = clock
        self._current: Call | None = None
        self._since = 0.0  # when the current call was highlighted
        self._last: Call | None = None
        self._waiting: deque[Call] = deque()
        self._recent: list[Call] = []
        self._lock = threading.Lock()  # calls come on the network thread, the screen reads

    def add(self, call: Call) -> None:
        """A new call (or a recall): listed at once, highlighted now or when its turn comes."""
        with self._lock:
            now = self.clock()
            rest = [c for c in self._recent if c.number != call.number]
            self._recent = [call, *rest][: self.keep]
            current = self._current
            if current is not None and (current.number, current.window) == (call.number,
                                                                             call.window):
                self._current, self._since = call, now  # recalled while up: up again in full
                return
            self._waiting = deque(c for c in self._waiting
                                  if c.window != call.window and c.number != call.number)
            self._waiting.append(call)
            while len(self._waiting) > self.max_queued:
                self._waiting.popleft()  # a rush: the oldest waiting call stays listed only
            self._advance(now)

    def update(self) -> bool:
        """Move the band on if the highlighted call's time is up; True if the band changed."""
        with self._lock:
            return self._advance(self.clock())

    def _advance(self, now: float) -> bool:
        current = self._current
        if current is not None:
            shown = now - self._since
            if shown < self.min_highlight_s or (shown < self.highlight_s and not self._waiting):
                return False
            self._current = None
        if self._waiting:
            self._current = self._last = self._waiting.popleft()
            self._since = now
            return True
        return current is not None  # highlighted until now, calm from now

    @property
    def current(self) -> Call | None:
        """The call highlighted now; None when the band is calm."""
        with self._lock:
            return self._current

    @property
    def last(self) -> Call | None:
        """The call highlighted last (maybe now): a calm band still shows it."""
        with self._lock:
            return self._last

    @property
    def waiting(self) -> list[Call]:
        """Calls waiting for the band, the next one first."""
        with self._lock:
            return list(self._waiting)

    @property
    def recent(self) -> list[Call]:
        """The calls to list, newest first, one per number, at most `keep`."""
        with self._lock:
            return list(self._recent)

    def shown_for(self) -> float:
        """How long the current call has been highlighted (0 when none is)."""
        with self._lock:
            return self.clock() - self._since if self._current is not None else 0.0
