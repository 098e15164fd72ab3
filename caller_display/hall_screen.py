"""`python -m caller_display.hall_screen`: the hall's main screen (大厅综合屏), settings from
HALLQ_DISPLAY_*.

The link (a display device) hands the hall's retained states to `MainScreen`, which
turns them into calls. Each call goes on the screen's board first, then to the
announcer, which only queues it: its own thread says it, so neither the network thread
nor Kivy's ever waits for a voice. The hub's voice settings go to the announcer; the hall's
broadcasts (events) to `Broadcasts`, which shows each once and has `BroadcastVoice` make
its sound and queue it between calls.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

from caller_display.adapters.audio import Player
from caller_display.announcer import Announcer
from caller_display.broadcasts import Broadcasts, BroadcastVoice
from caller_display.main_screen import Call, MainScreen
from caller_display.settings import DisplaySettings
from protocol.link import DeviceLink
from protocol.systemd import watch_kivy
from protocol.topics import DeviceClass

if TYPE_CHECKING:
    from caller_display.hall_screen_app import HallScreenApp

log = logging.getLogger(__name__)


@dataclass
class HallScreen:
    """The main screen's parts, wired: the link, the calls' logic, the voice, the app."""

    settings: DisplaySettings
    link: DeviceLink
    screen: MainScreen
    announcer: Announcer | None  # None: HALLQ_DISPLAY_ANNOUNCE=false, calls shown only
    app: HallScreenApp
    broadcast_voice: BroadcastVoice | None = None

    def run(self) -> None:
        """Connect, show until the app stops, then say offline and stop the voice."""
        self.link.start()
        try:
            self.app.run()
        finally:
            self.link.stop()
            self.close_voice()

    def close_voice(self) -> None:
        if self.broadcast_voice is not None:
            self.broadcast_voice.close()
        if self.announcer is not None:
            self.announcer.close()


@dataclass
class Voice:
    """The main screen's calls and broadcasts without its pixels, and what says them."""

    screen: MainScreen
    announcer: Announcer | None
    broadcast_voice: BroadcastVoice | None


def voice_parts(settings: DisplaySettings, player: Player | None = None) -> Voice:
    """MainScreen with the announcer (calls said, the hub's voice settings followed) and the
    broadcasts (shown once, said between calls); no Kivy."""
    announcer = Announcer.from_settings(settings, player) if settings.announce else None
    speaker = None if announcer is None else BroadcastVoice(announcer, volume=settings.volume)
    screen = MainScreen(announcer or (lambda call: None), keep=settings.recent_calls,
                        broadcasts=Broadcasts(speaker, show_s=settings.broadcast_show_s))
    if announcer is not None:
        screen.on_voice = announcer.use
    return Voice(screen, announcer, speaker)


def assemble(settings: DisplaySettings, player: Player | None = None) -> HallScreen:
    """The main screen's parts for these settings (`player` replaces the configured one)."""
    # Kivy reads its environment when first imported: main() sets it before this import.
    from caller_display.hall_screen_app import HallScreenApp

    parts = voice_parts(settings, player)
    screen, announcer = parts.screen, parts.announcer
    link = DeviceLink(settings, DeviceClass.DISPLAY, on_state=screen.on_state,
                      on_event=screen.on_event)
    app = HallScreenApp(settings, screen, link_up=lambda: link.connected)

    def announce(call: Call) -> None:
        app.on_call(call)  # on the screen at once
        if announcer is not None:
            announcer(call)  # queued; said by the announcer's thread

    screen.announce = announce
    screen.on_change = app.changed
    return HallScreen(settings, link, screen, announcer, app, parts.broadcast_voice)


def main() -> None:
    """Settings from HALLQ_DISPLAY_*, the link, the calls, the voice, the app; SIGTERM ends it."""
    # No command-line parsing by Kivy, and its log through Python's logging.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = DisplaySettings()  # device_id and the rest from HALLQ_DISPLAY_*
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    hall = assemble(settings)
    log.info("main screen %s of hall %s, voice %s", settings.device_id, settings.hall_id,
             settings.player if settings.announce else "off")
    from kivy.clock import Clock

    # systemd stops the screen with SIGTERM: leave the main loop, so the link says offline.
    signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: hall.app.stop()))
    watch_kivy(Clock)  # READY=1 at the first frame, then systemd's watchdog from the UI loop
    hall.run()


if __name__ == "__main__":
    main()
