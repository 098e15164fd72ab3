"""叫号与广播 on a running hub: the main screens' voice and the hall's broadcasts.

The voice (repeat, chime, quiet hours) goes to every main screen as a retained state
(`VoiceSettings`), again at every reconnect, so a screen that restarts has it at once.
A broadcast goes out as an event (`Broadcast`, QoS 1, not retained) with an id that a
resend keeps. Managers' changes run on the hub's request thread (`RequestConsumer.run`),
like every live setting; the schedule is looked at there too, between two batches of
requests, on the hub's clock (`tick`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from hub import announcements as ann
from hub.announcements import Saved, Voice
from hub.clock import Clock
from hub.consumer import RequestConsumer
from hub.work_calendar import WorkCalendar
from protocol import topics
from protocol.messages import Broadcast, QuietSpan, VoiceSettings

log = logging.getLogger(__name__)
Change = Callable[[Connection], Saved]


class HallVoice:
    """What 叫号与广播 changes, sent to the main screens; the scheduled broadcasts played."""

    def __init__(self, engine: Engine, consumer: RequestConsumer, calendar: WorkCalendar,
                 clock: Clock, hall_id: str) -> None:
        self.engine = engine
        self.consumer = consumer
        self.calendar = calendar
        self.clock = clock
        self.hall_id = hall_id
        with engine.connect() as conn:
            self._voice = ann.read_voice(conn)
            self._saved = ann.read_saved(conn)
        self._send_voice(self._voice)  # retained, and again at every connect
        consumer.every_loop(self.tick)

    # ------------------------------------------------------------ the voice

    def voice(self) -> Voice:
        return self._voice

    def set_voice(self, repeat: str, chime: bool, quiet_hours: str, who: str) -> Voice:
        """Repeat 1–3, chime, quiet hours: every main screen follows at once."""
        voice = ann.checked_voice(repeat, chime, quiet_hours)
        return self._change_voice(voice, who)

    def reset_voice(self, who: str) -> Voice:
        """Every main screen back to its own settings."""
        return self._change_voice(Voice(), who)

    def _change_voice(self, voice: Voice, who: str) -> Voice:
        return self.consumer.run(lambda conn: ann.write_voice(conn, voice, who, self.clock.now()),
                                 after=self._send_voice)

    def _send_voice(self, voice: Voice) -> None:
        self._voice = voice
        state = VoiceSettings(
            repeat=voice.repeat, chime=voice.chime,
            quiet_hours=None if voice.quiet_hours is None else
            [QuietSpan(start=a, end=b) for a, b in voice.quiet_hours],
            updated_at=self.clock.local(self.clock.now()))
        self.consumer.keep_retained(topics.voice_state_topic(self.hall_id),
                                    state.model_dump_json())

    # ------------------------------------------------------------ the list

    def saved(self) -> list[Saved]:
        return list(self._saved)

    def add(self, text: str, times: str, who: str) -> Saved:
        checked, at = ann.checked_text(text), ann.checked_times(times)
        return self._change(lambda conn: ann.add_saved(conn, checked, at, who, self.clock.now(),
                                                       self._local_now()))

    def edit(self, number: int, text: str, times: str, who: str) -> Saved:
        checked, at = ann.checked_text(text), ann.checked_times(times)
        return self._change(lambda conn: ann.edit_saved(
            conn, number, checked, at, who, self.clock.now(), self._local_now()))

    def delete(self, number: int, who: str) -> Saved:
        return self._change(lambda conn: ann.delete_saved(conn, number, who, self.clock.now()))

    def _change(self, job: Change) -> Saved:
        def done(conn: Connection) -> tuple[Saved, list[Saved]]:
            return job(conn), ann.read_saved(conn)
        changed, _ = self.consumer.run(done, after=self._follow)
        return changed

    def _follow(self, result: tuple[object, list[Saved]]) -> None:
        self._saved = result[1]

    # ------------------------------------------------------------ playing

    def play_now(self, text: str, who: str) -> Broadcast:
        """立即播放: a text typed on the page, on every main screen between two calls."""
        checked = ann.checked_text(text)
        return self.consumer.run(lambda conn: self._play(conn, checked, who),
                                 after=self._send)

    def play_saved(self, number: int, who: str) -> Broadcast:
        """立即播放 a broadcast of the list."""
        def job(conn: Connection) -> Broadcast:
            return self._play(conn, ann.saved_one(conn, number).text, who, number)
        return self.consumer.run(job, after=self._send)

    def _play(self, conn: Connection, text: str, who: str,
              number: int | None = None) -> Broadcast:
        now = self.clock.now()
        ann.record_play_now(conn, text, who, now, number)
        return Broadcast(id=ann.new_id(), text=text, at=self.clock.local(now))

    def _send(self, broadcast: Broadcast) -> None:
        log.info("broadcast %s: %s", broadcast.id, broadcast.text)
        self.consumer.publish_event(topics.broadcast_topic(self.hall_id),
                                    broadcast.model_dump_json())

    def tick(self) -> None:
        """On the hub's thread between two batches: play what the schedule says now."""
        local_now = self._local_now()
        workday = self.calendar.is_workday(local_now.date())  # managers' days count at once
        for saved, slot in ann.due(self._saved, local_now, workday):
            broadcast = Broadcast(id=ann.scheduled_id(saved.id, slot), text=saved.text,
                                  at=self.clock.local(self.clock.now()))
            try:
                with self.engine.begin() as conn:
                    ann.record_played(conn, saved.id, slot, self.clock.now())
                    self._saved = ann.read_saved(conn)
                    # sent before the commit: a commit that fails sends it again next time,
                    # with the same id, and each screen says it once
                    self._send(broadcast)
            except OperationalError:
                log.exception("could not record broadcast %s; will try again", broadcast.id)
                return

    def _local_now(self) -> datetime:
        return self.clock.local(self.clock.now()).replace(tzinfo=None)
