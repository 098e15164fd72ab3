"""The ticket on the citizen's phone: /t/<token> shows where it stands in the queue, live.

No login: the signed token in the ticket's QR code is the only key (hub/ticket_links.py),
and the page shows the ticket number and the item, never a name. A wrong or forged token
gets a 404 that says nothing about any ticket. Phones poll /t/<token>.json every POLL_S
seconds, not server-sent events: each open stream holds one of waitress's threads, and a
hall has hundreds of phones.

People ahead are counted in the ticket's own line, in the order of the call rule
(hub/handlers/calls.py: priority first, then the earliest issued), among waiting tickets
only (a pending or void number is in no line): the tickets of the same item, or for a
ticket sent on to a window, what that window calls. The wait is when the first window
that may call it gets there, as hub/wait_estimate.py plays the queue forward.

Polls stay cheap: the queue is read once per change of the hall (a mark of the waiting
tickets and the windows, from the queue index) or every SNAPSHOT_MAX_S seconds as the
estimate moves with the clock, and shared by every phone. On SQLite the page reads
through its own engine, in deferred read-only transactions: a phone never takes the
write lock the hub's request thread needs.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from sqlalchemy import Connection, Engine, bindparam, func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from hub import hall_state
from hub.clock import Clock
from hub.db.engine import make_reader
from hub.db.prepared import Prepared
from hub.db.schema import tickets, windows
from hub.handlers.reviews import review_of_ticket
from hub.ticket_links import TicketKey
from hub.wait_estimate import CaseTimes, Window, hall_now, windows_done  # as tickets say
from hub.web.private import private
from protocol.errors import ZH, UserError
from protocol.messages import BAD_GRADES, GRADE_STARS, GRADE_ZH, Grade, Ticket

log = logging.getLogger(__name__)

POLL_S = 5  # how often an open page asks again (hidden pages far less: see ticket.js)
NEAR = 3  # people ahead at which the page alerts "快轮到您了"
SNAPSHOT_MAX_S = 5.0  # the shared queue is read again at least this often

STATUS_ZH = {"pending": "待领取", "waiting": "等候中", "finished": "已办结", "no_show": "已过号",
             "void": "已作废", "closed": "已结束"}
NOTE_ZH = {
    "pending": "号票尚未领取：请按取号机屏幕的提示取走号票",
    "waiting": "请在大厅内或附近等候，留意叫号",
    "finished": "业务已办结，感谢您的耐心等候",
    "no_show": "叫号时您未到窗口。如需办理，请到导办台或窗口咨询",
    "void": "这张号票未被领取，已作废；如需办理请重新取号",
    "closed": "当日办理时间已结束，这张号票未能办理；请在工作日重新取号",
}
FINAL = frozenset({"finished", "void", "closed"})  # the page stops asking
MISSING_ZH = "没有找到这张号票"
REVIEW_NO_GRADE = "请选择一个评价等级"
REVIEW_BUSY = "系统繁忙，评价未能提交，请稍后再试"
GRADES = [{"code": g, "name": n, "stars": "★" * GRADE_STARS[g] + "☆" * (5 - GRADE_STARS[g]),
           "bad": g in BAD_GRADES} for g, n in GRADE_ZH.items()]
ReviewHandler = Callable[[int, Grade, "str | None"], object]

# Changes whenever a ticket joins or leaves the queue or a window calls, pauses or frees.
_QUEUED = (tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting")
_MARK = Prepared(select(
    select(func.count()).where(*_QUEUED).scalar_subquery(),
    select(func.coalesce(func.sum(tickets.c.id), 0)).where(*_QUEUED).scalar_subquery(),
    select(func.coalesce(func.sum(windows.c.call_seq), 0)).scalar_subquery(),
    select(func.max(windows.c.updated_at)).scalar_subquery()))


@dataclass
class Place:
    """A waiting ticket's place: people ahead in its line, and seconds until it is called."""

    ahead: int
    wait_s: int | None  # None: no staffed window may call it now


@dataclass
class QueueNow:
    """The day's waiting tickets in call order and the staffed windows, shared by phones."""

    day: date
    mark: tuple[Any, ...]
    built: float  # time.monotonic()
    staffed: list[Window]
    order: list[tuple[int, str, int | None, bool]]  # (id, service, sent to window, priority)
    times: CaseTimes
    places: dict[int, Place] = field(default_factory=dict)  # worked out as phones ask
    index: dict[int, int] = field(default_factory=dict)  # ticket id -> place in `order`

    def __post_init__(self) -> None:
        self.index = {row[0]: k for k, row in enumerate(self.order)}

    def place(self, ticket_id: int) -> Place | None:
        """Where `ticket_id` stands; None when it is not waiting in this queue."""
        found = self.places.get(ticket_id)
        if found is not None:
            return found
        k = self.index.get(ticket_id)
        if k is None:
            return None
        _, service, target, _ = self.order[k]
        before = [(s, t) for _, s, t, _ in self.order[:k]]
        if target is None:
            ahead = sum(1 for s, t in before if t is None and s == service)
        else:  # sent on to a window: everyone that window calls before it
            serves = next((w.services for w in self.staffed if w.number == target), frozenset())
            ahead = sum(1 for s, t in before if t == target or (t is None and s in serves))
        wait = None
        for window, at in windows_done(self.staffed, before, self.times):
            if (window.number == target) if target is not None else (service in window.services):
                wait = round(at)
                break
        found = self.places[ticket_id] = Place(ahead, wait)
        return found


def wait_zh(wait_s: int | None) -> str:
    """The estimate as the page says it."""
    if wait_s is None:
        return "暂无窗口办理该事项，无法预计"
    if wait_s < 60:
        return "预计1分钟内"
    return f"预计{math.ceil(wait_s / 60)}分钟"


def ticket_document(t: Ticket, place: Place | None, local_now: datetime,
                    review: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the phone shows, as JSON: the page renders the same. `review`: for a finished
    case, whether it may be reviewed here or how it was."""
    status_zh = STATUS_ZH.get(t.status, t.status)
    note, alert, alert_zh = NOTE_ZH.get(t.status, ""), None, None
    if t.status == "called":
        status_zh = f"请到{t.window}号窗口办理" if t.window else "请留意叫号屏"
        note, alert, alert_zh = "", "called", f"轮到您了，{status_zh}"
    elif place is not None and place.ahead <= NEAR:
        alert, note = "near", "请回到大厅，留意叫号屏和广播"
        alert_zh = "下一位就是您" if place.ahead == 0 else f"快轮到您了：前方还有{place.ahead}人"
    return {
        "ok": True,
        "number": t.number,
        "service_name": t.service_name,
        "priority": t.priority is not None,
        "status": t.status,
        "status_zh": status_zh,
        "note_zh": note,
        "window": t.window if t.status == "called" else None,
        "ahead": place.ahead if place else None,
        "ahead_zh": f"前方等待{place.ahead}人" if place else "",
        "wait_s": place.wait_s if place else None,
        "wait_zh": wait_zh(place.wait_s) if place else "",
        "alert": alert,
        "alert_zh": alert_zh,
        "final": t.status in FINAL,
        "review": review,
        "updated_at": local_now.strftime("%H:%M:%S"),
    }


def review_document(finished: bool, grade: str | None) -> dict[str, Any] | None:
    """The review part of a ticket's page: open, done (with its grade), or none."""
    if not finished:
        return None
    if grade is None:
        return {"state": "open"}
    return {"state": "done", "grade_zh": GRADE_ZH[grade],
            "stars": "★" * GRADE_STARS[grade] + "☆" * (5 - GRADE_STARS[grade])}


class TicketPages:
    """The pages of every ticket, read-only, with the queue they share."""

    def __init__(self, engine: Engine, clock: Clock, key: TicketKey, hall_name: str,
                 opened: Callable[[int], None] | None = None,
                 review: ReviewHandler | None = None,
                 review_reasons: tuple[str, ...] = ()) -> None:
        # `opened(ticket_id)`: a pending ticket's page was opened on a phone, which is
        # the citizen taking it (paperless): the hub confirms it, as a kiosk would.
        self.opened = opened
        # `review(ticket_id, grade, reason)`: keeps the review of the ticket's case, or
        # raises UserError (reviewed already, no reason, …) or TimeoutError (hub busy).
        self.review = review
        self.review_reasons = review_reasons
        self.reader = make_reader(engine)
        self.clock = clock
        self.key = key
        self.hall_name = hall_name
        self._lock = threading.Lock()
        self._queue: QueueNow | None = None

    def document(self, token: str) -> dict[str, Any] | None:
        """The page's content for `token`; None for a wrong or forged one."""
        ticket_id = self.key.ticket_of(token)
        if ticket_id is None:
            return None
        now = self.clock.now()
        document = self._read(ticket_id, now)
        if document is not None and document["status"] == "pending" and self.opened:
            self.opened(ticket_id)  # the phone has it now: it joins the queue
            document = self._read(ticket_id, now)
        return document

    def _read(self, ticket_id: int, now: datetime) -> dict[str, Any] | None:
        with self.reader.begin() as conn:
            try:
                t = hall_state.ticket(conn, self.clock, ticket_id)
            except LookupError:
                return None
            place, review = None, None
            if t.status == "waiting":
                place = self._queue_now(conn, t.service_day, now, ticket_id).place(ticket_id)
            elif t.status == "finished" and self.review is not None:
                review = review_document(*review_of_ticket(conn, ticket_id))
        return ticket_document(t, place, self.clock.local(now), review)

    def _queue_now(self, conn: Connection, day: date, now: datetime,
                   ticket_id: int) -> QueueNow:
        """The shared queue, read again when the hall changed, it aged, or lacks the ticket."""
        row = _MARK.one_or_none(conn, {"b_day": day})
        mark = tuple(row or ())
        with self._lock:
            q = self._queue
            if q is None or q.day != day or q.mark != mark \
                    or time.monotonic() - q.built > SNAPSHOT_MAX_S \
                    or (ticket_id not in q.places and q.place(ticket_id) is None):
                staffed, order, times = hall_now(conn, day, now)
                q = QueueNow(day, mark, time.monotonic(), staffed,
                             [(i, s, t, bool(p)) for i, s, t, p in order], times)
                self._queue = q
                log.debug("ticket pages read the queue of %s again: %d waiting", day, len(order))
            return q

    def blueprint(self) -> Blueprint:
        """/t/<token> (the page) and /t/<token>.json (what it polls)."""
        bp = Blueprint("ticket_page", __name__)

        @bp.get("/t/<token>.json")
        def ticket_json(token: str) -> tuple[Response, int]:
            """The ticket's state as JSON; 404 with the one error shape when unknown."""
            doc = self.document(token)
            if doc is None:
                return jsonify(ok=False, code="UNKNOWN_TICKET", message=MISSING_ZH), 404
            return jsonify(doc), 200

        @bp.get("/t/<token>")
        def ticket_html(token: str) -> tuple[str, int]:
            """The page, complete with the state now, so it reads right before any script."""
            return self._page(token)

        @bp.post("/t/<token>/review")
        def review(token: str) -> WerkzeugResponse | tuple[str, int]:
            """好差评 from the phone: a plain form (no script needed), answered with the page
            again (303) or, refused, the page with the reason and the choice kept (400)."""
            ticket_id = self.key.ticket_of(token)
            if ticket_id is None or self.review is None:
                return render_template("ticket_missing.html", message=MISSING_ZH), 404
            grade = request.form.get("grade", "")
            reason = request.form.get("reason", "").strip() or None
            if grade not in GRADE_ZH:
                return self._page(token, REVIEW_NO_GRADE, grade, reason, 400)
            try:
                self.review(ticket_id, cast(Grade, grade), reason)
            except UserError as e:
                return self._page(token, ZH[e.code], grade, reason, 400)
            except TimeoutError:
                return self._page(token, REVIEW_BUSY, grade, reason, 503)
            log.info("ticket %s reviewed on a phone", ticket_id)
            return redirect(url_for("ticket_page.ticket_html", token=token) + "#review", 303)

        bp.after_request(private)

        return bp

    def _page(self, token: str, error: str | None = None, grade: str | None = None,
              reason: str | None = None, status: int = 200) -> tuple[str, int]:
        doc = self.document(token)
        if doc is None:
            return render_template("ticket_missing.html", message=MISSING_ZH), 404
        return render_template("ticket.html", t=doc, hall_name=self.hall_name, poll_s=POLL_S,
                               grades=GRADES, reasons=self.review_reasons,
                               review_error=error, chosen=(grade, reason)), status
