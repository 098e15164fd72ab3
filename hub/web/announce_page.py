"""叫号与广播 on the dashboard (/announce): how the main screen says calls, and the hall's
broadcasts (广播).

Administrators and managers set how many times a call is said (1–3), the chime and the
quiet hours, or give every main screen back its own settings; they write a broadcast and
play it now (立即播放), or keep it in the list with daily times on working days. Viewers
read. Every change goes through HallVoice (on the hub's thread, sent to the main screens
at once) and into the audit log by name. A refused form says why in Chinese and keeps
what was typed.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub.accounts import Role
from hub.announcements import MAX_QUIET_SPANS, MAX_TIMES, span_text, times_text
from hub.hall_voice import HallVoice
from hub.web.auth import account, allow
from hub.web.settings_pages import BUSY_ZH
from protocol.errors import UserError
from protocol.messages import MAX_BROADCAST_CHARS

CHANGERS: tuple[Role, ...] = ("admin", "manager")
Page = tuple[str, int]


def announce_page(voice: HallVoice, hall_name: str) -> Blueprint:
    bp = Blueprint("announce_page", __name__)

    def page(status: int = 200, error: str = "", *, typed_voice: dict[str, str] | None = None,
             typed_new: dict[str, str] | None = None,
             editing: tuple[int, dict[str, str]] | None = None) -> Page:
        current = voice.voice()
        shown_voice = typed_voice or {
            "repeat": str(current.repeat or 2),
            "chime": "1" if current.chime is not False else "",
            "quiet_hours": "\n".join(span_text(s) for s in current.quiet_hours or ())}
        return render_template(
            "announce.html", hall_name=hall_name, current=current, voice=shown_voice,
            saved=voice.saved(), typed=typed_new or {"text": "", "times": ""},
            editing=editing, can_change=account().role in CHANGERS, error=error,
            span_text=span_text, times_text=times_text, max_chars=MAX_BROADCAST_CHARS,
            max_spans=MAX_QUIET_SPANS, max_times=MAX_TIMES,
            done=request.args.get("done", "")), status

    def done(message: str) -> Response:
        return redirect(url_for("announce_page.announce", done=message), 303)

    def form(*names: str) -> dict[str, str]:
        return {n: request.form.get(n, "")[:500] for n in names}

    @bp.get("/announce")
    @allow(*CHANGERS, "viewer")
    def announce() -> Page:
        return page()

    @bp.post("/announce/voice")
    @allow(*CHANGERS)
    def set_voice() -> Page | Response:
        typed = form("repeat", "chime", "quiet_hours")
        try:
            if request.form.get("reset"):
                voice.reset_voice(account().username)
                return done("已恢复大屏本机的播报设置")
            voice.set_voice(typed["repeat"], typed["chime"] == "1", typed["quiet_hours"],
                            account().username)
        except UserError as err:
            return page(400, f"叫号播报未修改：{err.zh}", typed_voice=typed)
        except TimeoutError:
            return page(503, BUSY_ZH, typed_voice=typed)
        now = voice.voice()
        quiet = "、".join(span_text(s) for s in now.quiet_hours or ()) or "无"
        return done(f"叫号播报已更新，各大屏即时生效：每次叫号播报{now.repeat}遍，"
                    f"提示音{'开' if now.chime else '关'}，静音时段：{quiet}")

    @bp.post("/announce/broadcasts")
    @allow(*CHANGERS)
    def new_broadcast() -> Page | Response:
        typed = form("text", "times")
        try:
            if request.form.get("action") == "save":
                saved = voice.add(typed["text"], typed["times"], account().username)
                when = times_text(saved.times)
                return done(f"已保存到广播列表：工作日{when}播放" if when else
                            "已保存到广播列表（未设播放时间，仅手动播放）")
            voice.play_now(typed["text"], account().username)
        except UserError as err:
            return page(400, f"广播未发出：{err.zh}", typed_new=typed)
        except TimeoutError:
            return page(503, BUSY_ZH, typed_new=typed)
        return done("广播已发送到大屏：在当前叫号播报完后播放")

    @bp.post("/announce/broadcasts/<int:number>/edit")
    @allow(*CHANGERS)
    def edit(number: int) -> Page | Response:
        typed = form("text", "times")
        try:
            voice.edit(number, typed["text"], typed["times"], account().username)
        except UserError as err:
            return page(400, f"广播未修改：{err.zh}", editing=(number, typed))
        except TimeoutError:
            return page(503, BUSY_ZH, editing=(number, typed))
        return done("广播已修改")

    @bp.post("/announce/broadcasts/<int:number>/delete")
    @allow(*CHANGERS)
    def delete(number: int) -> Page | Response:
        try:
            voice.delete(number, account().username)
        except UserError as err:
            return page(400, f"广播未删除：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done("广播已删除")

    @bp.post("/announce/broadcasts/<int:number>/play")
    @allow(*CHANGERS)
    def play(number: int) -> Page | Response:
        try:
            voice.play_saved(number, account().username)
        except UserError as err:
            return page(400, f"广播未发出：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done("广播已发送到大屏：在当前叫号播报完后播放")

    return bp
