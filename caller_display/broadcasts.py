"""The hall's broadcasts (广播) on the main screen: "各位办事群众：本中心午间不休息…".

The hub sends each broadcast once with an id (QoS 1: it may come twice). `Broadcasts` keeps
the ids it has had, so a broadcast is shown and said once, and shows the newest for
`show_s`. `BroadcastVoice` makes its sound as soon as it comes: espeak-ng (the
`espeakng-loader` wheel, as for the call clips) on a thread of its own, so neither the
network thread nor a call waits for it; then it goes into the announcer's queue, to be
said between two calls, never cutting one. A text espeak-ng cannot say is shown only, and
logged. Quiet hours (the hub's time of the broadcast) silence it like a call.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from caller_display.voice_clips import normalize, scale, trim
from protocol.messages import Broadcast

if TYPE_CHECKING:
    from caller_display.announcer import Announcer

log = logging.getLogger(__name__)

REMEMBER = 500  # broadcast ids kept to tell a redelivery: far more than a day's


class Broadcasts:
    """The broadcasts a main screen has had: each id once; the newest shown for `show_s`."""

    def __init__(self, speak: Callable[[Broadcast], None] | None = None, *,
                 show_s: float = 120.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.speak = speak
        self.show_s = show_s
        self.clock = clock
        self.current: Broadcast | None = None
        self.received = 0  # broadcasts taken (redeliveries not counted)
        self._since = 0.0
        self._seen: dict[str, None] = {}  # ids, oldest first
        self._lock = threading.Lock()

    def receive(self, broadcast: Broadcast) -> bool:
        """Show and say a broadcast; False when it came before (a redelivery)."""
        with self._lock:
            if broadcast.id in self._seen:
                log.info("broadcast %s came again: already shown and said", broadcast.id)
                return False
            self._seen[broadcast.id] = None
            while len(self._seen) > REMEMBER:
                del self._seen[next(iter(self._seen))]
            self.current, self._since = broadcast, self.clock()
            self.received += 1
        log.info("broadcast %s: %s", broadcast.id, broadcast.text)
        if self.speak is not None:
            self.speak(broadcast)
        return True

    def shown(self) -> str:
        """The text to show now: the newest broadcast within `show_s`; "" for none."""
        with self._lock:
            if self.current is None or self.clock() - self._since >= self.show_s:
                return ""
            return self.current.text


@dataclass(frozen=True)
class Speech:
    """A broadcast as the announcer says it: its frames, made when it came."""

    what: str  # for the log: "broadcast n-3f2a…"
    frames: bytes
    at: datetime | None = None  # the hub's time of it (quiet hours)


class Synth(Protocol):
    def speak(self, text: str) -> bytes: ...


def espeak() -> Synth:
    """espeak-ng, loaded on first use (the display extra's `espeakng-loader`)."""
    from caller_display.voice_clips import EspeakSynth

    return EspeakSynth()


@dataclass
class VoiceStats:
    spoken: int = 0  # handed to the announcer
    quiet: int = 0  # not said: quiet hours
    failed: int = 0  # shown only: espeak-ng could not say it


class BroadcastVoice:
    """Speaks broadcasts through the announcer: synthesized at once, said between calls."""

    def __init__(self, announcer: Announcer, *, volume: float = 1.0,
                 synth: Callable[[], Synth] = espeak) -> None:
        self.announcer = announcer
        self.volume = volume
        self.make_synth = synth
        self.stats = VoiceStats()
        self._synth: Synth | None = None
        self._todo: queue.Queue[Broadcast | None] = queue.Queue()
        self._idle = threading.Condition()
        self._busy = 0
        self._worker = threading.Thread(target=self._run, name="broadcast-voice", daemon=True)
        self._worker.start()

    def __call__(self, broadcast: Broadcast) -> None:
        """Queue a broadcast to be made into sound (Broadcasts' `speak`); returns at once."""
        with self._idle:
            self._busy += 1
        self._todo.put(broadcast)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every broadcast queued is in the announcer's hands (or given up)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        self._todo.put(None)
        self._worker.join(timeout)

    def _run(self) -> None:
        while (broadcast := self._todo.get()) is not None:
            try:
                self._say(broadcast)
            except Exception:  # a bug must not silence the next broadcast
                log.exception("broadcast %s not said", broadcast.id)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _say(self, broadcast: Broadcast) -> None:
        if self.announcer.quiet_at(broadcast.at):
            log.info("quiet hours: broadcast %s shown, not said", broadcast.id)
            self.stats.quiet += 1
            return
        try:
            if self._synth is None:
                self._synth = self.make_synth()
            frames = normalize(trim(self._synth.speak(broadcast.text)))
            if not frames:
                raise RuntimeError("espeak-ng said nothing")
        except (ImportError, OSError, RuntimeError) as e:
            log.warning("broadcast %s shown, not said: %s", broadcast.id, e)
            self.stats.failed += 1
            return
        self.stats.spoken += 1
        self.announcer.say(Speech(f"broadcast {broadcast.id}", scale(frames, self.volume),
                                  broadcast.at))
