"""The hall's main screen without its pixels: recent calls and the lines it announces, the
hub's voice settings and the hall's broadcasts."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from caller_display.broadcasts import Broadcasts
from protocol.link import Event, State
from protocol.messages import (
    CatalogueState,
    HubProblem,
    HubStatus,
    QueueState,
    VoiceSettings,
    WindowState,
)


def call_text(number: str, window: int) -> str:
    """What the screen shows and the speaker says: 请A005号到3号窗口办理."""
    return f"请{number}号到{window}号窗口办理"


def window_text(state: WindowState) -> str:
    """What the screen above a window says: the number served, or why nobody is called."""
    if state.status == "serving" and state.serving:
        return f"请{state.serving}号到{state.window}号窗口办理"
    if state.status == "paused":
        reason = state.pause_reason
        return f"暂停服务（{reason}）" if reason and reason != "暂停服务" else "暂停服务"
    if state.status == "away":
        return "暂停服务 · 工作人员稍后回来"
    if state.status == "closed":
        return "本窗口暂未开放"
    return "欢迎办理 · 请留意叫号"


@dataclass(frozen=True)
class Call:
    number: str
    window: int
    call_seq: int
    at: datetime | None = None  # when the hub made the call, on its clock (quiet hours)

    @property
    def text(self) -> str:
        return call_text(self.number, self.window)


class MainScreen:
    """Turns window states into calls: a call is a window whose call counter went up.

    It also knows whether the hub is up (its retained status, set to offline by
    the broker when the hub dies), so the screen can say 系统维护中 instead of
    showing stale calls as live. It keeps the catalogue for the hall's name and its public
    notices, hands the hub's voice settings to `on_voice` and the hall's broadcasts to
    `broadcasts`, and calls `on_change` (on the network thread) after every state.
    """

    def __init__(self, announce: Callable[[Call], None], keep: int = 10,
                 broadcasts: Broadcasts | None = None) -> None:
        self.announce = announce
        self.broadcasts = broadcasts or Broadcasts()
        self.voice: VoiceSettings | None = None  # the managers' (None: not heard yet)
        self.on_voice: Callable[[VoiceSettings], None] | None = None
        self.recent: deque[Call] = deque(maxlen=keep)
        self.windows: dict[int, WindowState] = {}
        self.queue: QueueState | None = None
        self.catalogue: CatalogueState | None = None
        self.on_change: Callable[[], None] | None = None  # a screen redraws (any thread)
        self.hub_online: bool | None = None  # None: not known yet
        self.hub_problem: HubProblem | None = None  # online but unable to work (disk full)
        self._seen: dict[int, int] = {}  # window -> last call_seq
        self._lock = threading.Lock()

    def on_state(self, state: State, live: bool) -> None:
        """Show every state; announce a call once, never on the first sight after a start."""
        self._keep(state)
        if self.on_change is not None:
            self.on_change()

    def on_event(self, event: Event) -> None:
        """A hall broadcast: shown and said once, whatever number of times it comes."""
        if self.broadcasts.receive(event) and self.on_change is not None:
            self.on_change()

    def _keep(self, state: State) -> None:
        if isinstance(state, QueueState):
            self.queue = state
            return
        if isinstance(state, HubStatus):
            self.hub_online = state.status == "online"
            self.hub_problem = state.problem
            return
        if isinstance(state, CatalogueState):
            self.catalogue = state
            return
        if isinstance(state, VoiceSettings):
            self.voice = state
            if self.on_voice is not None:
                self.on_voice(state)
            return
        with self._lock:
            self.windows[state.window] = state
            before = self._seen.get(state.window)
            self._seen[state.window] = max(before or 0, state.call_seq)
            is_new = before is not None and state.call_seq > before
        if is_new and state.serving is not None:
            call = Call(state.serving, state.window, state.call_seq, state.updated_at)
            self.recent.appendleft(call)
            self.announce(call)

    def paused_windows(self) -> list[int]:
        """The windows paused or with their staff away, by number: nobody is called there."""
        with self._lock:
            return sorted(n for n, w in self.windows.items() if w.status in ("paused", "away"))
