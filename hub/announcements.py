"""叫号与广播 as managers set them: how the main screen says calls (repeat, chime, quiet
hours) and the hall's broadcasts (广播) kept with their daily times.

Kept in `hall_texts` (keys below) over restarts; every change goes into the audit log in
the same transaction. The voice left unset is the main screens' own settings
(HALLQ_DISPLAY_*): managers override them, and a reset gives them back. A saved broadcast
plays at each of its times on the hall's working days, on the hub's clock, once: the last
time each has played is kept too, so a hub restarted within a minute of it does not play
it twice. What this module checks is said in Chinese, and a refusal changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, delete, insert, select

from hub import audit
from hub.db.schema import hall_texts
from protocol.errors import ErrorCode, UserError
from protocol.messages import MAX_BROADCAST_CHARS

VOICE_KEY = "call_voice"
SAVED_KEY = "broadcasts"
PLAYED_KEY = "broadcasts_played"  # saved broadcast id -> its last time played (local)
MAX_REPEAT = 3
MAX_QUIET_SPANS = 6
MAX_SAVED = 20
MAX_TIMES = 8
LATE = timedelta(minutes=5)  # a time missed (hub down) still plays this long after it
DEVICE_OWN = "大屏本机设置"  # the audit log's word for a voice field left to the screens
SYSTEM = "hub"  # who records the times played

SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2}):(\d{2})$")
CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")
SEPARATORS = re.compile(r"[\s,，、;；]+")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Personal data never goes on a public speaker: a mobile number or an ID number.
PERSONAL = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx]|\d{15})(?!\d)")


@dataclass(frozen=True)
class Voice:
    """How calls are said; None: each main screen's own setting."""

    repeat: int | None = None
    chime: bool | None = None
    quiet_hours: tuple[tuple[time, time], ...] | None = None

    @property
    def is_screens_own(self) -> bool:
        return self == Voice()

    def record(self) -> dict[str, Any]:
        """As kept in the database."""
        return {"repeat": self.repeat, "chime": self.chime,
                "quiet_hours": None if self.quiet_hours is None else
                [[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in self.quiet_hours]}

    def audit_words(self) -> dict[str, Any]:
        """As the audit log shows it."""
        return {"repeat": DEVICE_OWN if self.repeat is None else f"{self.repeat}遍",
                "chime": DEVICE_OWN if self.chime is None else self.chime,
                "quiet_hours": DEVICE_OWN if self.quiet_hours is None else
                [span_text(s) for s in self.quiet_hours]}


@dataclass(frozen=True)
class Saved:
    """A broadcast kept in the list, played at `times` on working days (none: by hand only).
    Local times as "2026-11-24T11:50": a time plays only after `since` (when the broadcast
    was saved: a time already past that day waits for the next) and after `last_played`."""

    id: int
    text: str
    times: tuple[time, ...]
    since: str = ""
    last_played: str | None = None  # the last time it played by the schedule

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "since": self.since,
                "times": [t.isoformat("minutes") for t in self.times]}


def span_text(span: tuple[time, time]) -> str:
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


def times_text(times: tuple[time, ...]) -> str:
    return "、".join(f"{t:%H:%M}" for t in times)


# ---------------------------------------------------------------- reading


def _stored(conn: Connection, key: str) -> Any:
    return conn.scalar(select(hall_texts.c.value).where(hall_texts.c.key == key))


def _keep(conn: Connection, key: str, value: Any, who: str, now: datetime) -> None:
    conn.execute(delete(hall_texts).where(hall_texts.c.key == key))
    conn.execute(insert(hall_texts).values(key=key, value=value, changed_at=now,
                                           changed_by=who[:50]))


def read_voice(conn: Connection) -> Voice:
    """The managers' voice settings; every field None when they never set them."""
    kept = _stored(conn, VOICE_KEY)
    if not kept:
        return Voice()
    spans = kept.get("quiet_hours")
    return Voice(kept.get("repeat"), kept.get("chime"),
                 None if spans is None else tuple((time.fromisoformat(a), time.fromisoformat(b))
                                                  for a, b in spans))


def read_saved(conn: Connection) -> list[Saved]:
    """The saved broadcasts, in the order they were added, with when each last played."""
    played = _stored(conn, PLAYED_KEY) or {}
    return [Saved(int(r["id"]), str(r["text"]),
                  tuple(time.fromisoformat(t) for t in r["times"]), str(r.get("since", "")),
                  played.get(str(r["id"])))
            for r in _stored(conn, SAVED_KEY) or []]


# ---------------------------------------------------------------- checking


def _refuse(detail: str, zh: str) -> UserError:
    return UserError(ErrorCode.INVALID, detail, zh)


def _clock(text: str) -> time | None:
    found = CLOCK.match(text)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return time(int(found[1]), int(found[2]))


def checked_voice(repeat: str, chime: bool, quiet_hours: str) -> Voice:
    """The voice from the page's form: repeat 1–3, chime, quiet hours one span a line
    ("12:00-13:30"; none: never quiet), or UserError saying what is wrong."""
    if repeat.strip() not in {str(n) for n in range(1, MAX_REPEAT + 1)}:
        raise _refuse("repeat", f"播报次数只能是1到{MAX_REPEAT}遍")
    spans: list[tuple[time, time]] = []
    for line in (part.strip() for part in re.split(r"[\n,，;；、]+", quiet_hours)):
        if not line:
            continue
        found = SPAN.match(line.replace("：", ":"))
        start = _clock(f"{found[1]}:{found[2]}") if found else None
        end = _clock(f"{found[3]}:{found[4]}") if found else None
        if start is None or end is None:
            raise _refuse("quiet span", f"静音时段“{line[:20]}”格式有误，请写成12:00-13:30")
        if start == end:
            raise _refuse("empty span", f"静音时段“{line[:20]}”的开始和结束相同")
        spans.append((start, end))
    if len(spans) > MAX_QUIET_SPANS:
        raise _refuse("spans", f"静音时段最多{MAX_QUIET_SPANS}段（现有{len(spans)}段）")
    return Voice(int(repeat), chime, tuple(sorted(set(spans))))


def checked_text(text: str) -> str:
    """A broadcast's text as it will be shown and said, or UserError."""
    text = " ".join(text.split())
    if not text:
        raise _refuse("empty", "请填写广播内容")
    if len(text) > MAX_BROADCAST_CHARS:
        raise _refuse("too long", f"广播内容最多{MAX_BROADCAST_CHARS}字（现有{len(text)}字）")
    if not CJK.search(text):
        raise _refuse("no Chinese", "广播内容请用中文书写，大屏按中文朗读")
    if PERSONAL.search(text):
        raise _refuse("personal data", "广播内容不能包含手机号码或身份证号码")
    return text


def checked_times(text: str) -> tuple[time, ...]:
    """Daily times ("11:50 16:50", any separator), sorted; none is allowed (by hand only)."""
    found: set[time] = set()
    for part in SEPARATORS.split(text.strip()):
        if not part:
            continue
        at = _clock(part)
        if at is None:
            raise _refuse("time", f"播放时间“{part[:10]}”格式有误，请写成11:50")
        found.add(at)
    if len(found) > MAX_TIMES:
        raise _refuse("times", f"每条广播每天最多{MAX_TIMES}个播放时间")
    return tuple(sorted(found))


# ---------------------------------------------------------------- changing


def write_voice(conn: Connection, voice: Voice, who: str, now: datetime) -> Voice:
    """Keep the managers' voice (the screens' own again when it is all None), audited."""
    before = read_voice(conn)
    if voice.is_screens_own:
        conn.execute(delete(hall_texts).where(hall_texts.c.key == VOICE_KEY))
    else:
        _keep(conn, VOICE_KEY, voice.record(), who, now)
    audit.record(conn, now, who, "voice.reset" if voice.is_screens_own else "voice.set",
                 "main screen voice", before.audit_words(), voice.audit_words())
    return voice


def add_saved(conn: Connection, text: str, times: tuple[time, ...], who: str,
              now: datetime, local_now: datetime) -> Saved:
    """A new broadcast in the list; its times count from now on (none already past today)."""
    saved = read_saved(conn)
    if len(saved) >= MAX_SAVED:
        raise _refuse("list full", f"广播列表最多{MAX_SAVED}条，请先删除不用的")
    added = Saved(max((s.id for s in saved), default=0) + 1, text, times, _minute(local_now))
    _write_saved(conn, [*saved, added], who, now)
    audit.record(conn, now, who, "broadcast.add", f"broadcast {added.id}", None,
                 {"text": text, "times": times_text(times) or "（仅手动播放）"})
    return added


def edit_saved(conn: Connection, number: int, text: str, times: tuple[time, ...], who: str,
               now: datetime, local_now: datetime) -> Saved:
    saved = read_saved(conn)
    old = _one(saved, number)
    new = Saved(number, text, times, _minute(local_now), old.last_played)
    _write_saved(conn, [new if s.id == number else s for s in saved], who, now)
    audit.record(conn, now, who, "broadcast.edit", f"broadcast {number}",
                 {"text": old.text, "times": times_text(old.times) or "（仅手动播放）"},
                 {"text": text, "times": times_text(times) or "（仅手动播放）"})
    return new


def delete_saved(conn: Connection, number: int, who: str, now: datetime) -> Saved:
    saved = read_saved(conn)
    old = _one(saved, number)
    _write_saved(conn, [s for s in saved if s.id != number], who, now)
    audit.record(conn, now, who, "broadcast.delete", f"broadcast {number}",
                 {"text": old.text, "times": times_text(old.times) or "（仅手动播放）"}, None)
    return old


def saved_one(conn: Connection, number: int) -> Saved:
    return _one(read_saved(conn), number)


def _one(saved: list[Saved], number: int) -> Saved:
    found = next((s for s in saved if s.id == number), None)
    if found is None:
        raise _refuse(f"no broadcast {number}", "没有这条广播（可能已被删除），请刷新页面")
    return found


def _write_saved(conn: Connection, saved: list[Saved], who: str, now: datetime) -> None:
    _keep(conn, SAVED_KEY, [s.record() for s in saved], who, now)


def _minute(local: datetime) -> str:
    return local.strftime("%Y-%m-%dT%H:%M")


def record_played(conn: Connection, number: int, slot: datetime, now: datetime) -> None:
    """A scheduled broadcast played at its time `slot` (local): never again for that time."""
    played = dict(_stored(conn, PLAYED_KEY) or {})
    played[str(number)] = _minute(slot)
    _keep(conn, PLAYED_KEY, played, SYSTEM, now)


def record_play_now(conn: Connection, text: str, who: str, now: datetime,
                    number: int | None = None) -> None:
    """立即播放's audit line."""
    audit.record(conn, now, who, "broadcast.play",
                 f"broadcast {number}" if number else "main screen", None, {"text": text})


# ---------------------------------------------------------------- the schedule


def due(saved: list[Saved], local_now: datetime, workday: bool) -> list[tuple[Saved, datetime]]:
    """The saved broadcasts whose time has come and not yet played, with that time (local,
    naive): on working days only, up to LATE after the time (a hub that was down)."""
    if not workday:
        return []
    today = local_now.replace(tzinfo=None)
    found = []
    for s in saved:
        done = max(s.since, s.last_played or "")
        for t in s.times:
            slot = datetime.combine(today.date(), t)
            if slot <= today < slot + LATE and done < _minute(slot):
                found.append((s, slot))
                break  # one a loop; a second time due at once plays on the next
    return found


def scheduled_id(number: int, slot: datetime) -> str:
    """A scheduled broadcast's id: the same if the hub sends it again."""
    return f"s{number}-{slot:%Y%m%d%H%M}"


def new_id() -> str:
    """A broadcast played by hand: its own id."""
    return f"n-{uuid4().hex[:16]}"
