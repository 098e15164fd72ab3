"""导办台 on the dashboard (/desk): the guide desk's three jobs, for guide-desk staff and
managers.

- 优先取号: a priority ticket (老弱病残孕军), called before every other ticket;
- 代取号: an ordinary ticket for someone who cannot use the kiosk (国办发〔2020〕45号:
  manual service stays);
- 预约签到: a booking checked in by its number, for someone without the QR code.

Each goes through the hub's request thread with the same rules as the kiosk (hours, caps,
the booking's day and time), is handed over at the desk (it joins the queue at once), and
is written to the audit log with the desk's account. The answer page is a slip the desk
prints (浏览器打印): the number, the item, how many wait ahead, and the QR code of the
ticket's page for the citizen's phone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from flask import Blueprint, render_template, request
from markupsafe import Markup
from sqlalchemy import Connection, insert, select

from hub import appointment_admin, audit
from hub.accounts import Role
from hub.catalogue import Catalogue
from hub.context import HallContext
from hub.db.schema import requests
from hub.handlers.tickets import hand_over, issue
from hub.qr_image import qr_svg
from hub.web.auth import Run, account, allow
from protocol.errors import UserError
from protocol.messages import (
    PRIORITY_ZH,
    IssuePriorityTicket,
    IssueTicket,
    Ticket,
    TicketIssued,
    parse_reply,
)

ROLES: tuple[Role, ...] = ("admin", "manager", "guide")
DESK = "guide-desk"  # the device id the desk's tickets carry
BUSY_ZH = "大厅服务器暂未连上消息服务器，未取号，请稍后再试"


def desk_page(run: Run, ctx: Callable[[], HallContext], catalogue: Catalogue,
              hall_name: str) -> Blueprint:
    bp = Blueprint("desk_page", __name__)
    services = [(s.code, s.name, catalogue.department_name(s.department))
                for s in catalogue.all_services()]

    def page(status: int = 200, error: str = "", typed: dict[str, str] | None = None
             ) -> tuple[str, int]:
        return render_template("desk.html", hall_name=hall_name, services=services,
                               groups=PRIORITY_ZH, error=error, typed=typed or {},
                               request_id=uuid4()), status

    def slip(ticket: Ticket, ahead: int | None, how: str, url: str) -> tuple[str, int]:
        return render_template("desk_slip.html", hall_name=hall_name, ticket=ticket,
                               ahead=ahead, how=how, qr=Markup(qr_svg(url, 180))), 200

    @bp.get("/desk")
    @allow(*ROLES)
    def desk() -> tuple[str, int]:
        return page()

    @bp.post("/desk/ticket")
    @allow(*ROLES)
    def ticket() -> tuple[str, int]:
        service = request.form.get("service", "")
        group = request.form.get("group", "")
        who = account().username
        typed = {"service": service, "group": group}
        try:  # the form's own id: a second click or a reload gives the same ticket
            rid = UUID(request.form.get("request_id", ""))
        except ValueError:
            return page(400, "页面已过期，请重新取号", typed)

        def job(conn: Connection) -> TicketIssued:
            c = ctx()
            first = conn.scalar(select(requests.c.reply).where(
                requests.c.request_id == str(rid), requests.c.device_id == DESK))
            if first is not None:
                again = parse_reply(first)
                assert isinstance(again, TicketIssued)
                return again
            if group:
                req: Any = IssuePriorityTicket(request_id=rid, service=service, group=group)
            else:
                req = IssueTicket(request_id=rid, service=service)
            reply = issue(conn, c, DESK, req, service, priority=group or None).reply
            assert isinstance(reply, TicketIssued)
            now = c.clock.now()
            hand_over(conn, reply.ticket.id, "desk", now)
            conn.execute(insert(requests).values(request_id=str(rid), device_id=DESK,
                                                 action="desk_ticket",
                                                 reply=reply.model_dump_json(), created_at=now))
            audit.record(conn, now, who, "desk.priority" if group else "desk.ticket",
                         reply.ticket.number, None,
                         {"service": service, **({"group": group} if group else {})})
            return reply
        try:
            if group and group not in PRIORITY_ZH:
                return page(400, "请选择优先群体", typed)
            done = run(job)
        except UserError as err:
            return page(400, f"未取号：{err.zh}", typed)
        except ValueError:  # the request itself refused (an unknown item)
            return page(400, "未取号：请选择办理事项", typed)
        except TimeoutError:
            return page(503, BUSY_ZH, typed)
        how = f"优先（{PRIORITY_ZH[group]}）" if group else "导办台代取"
        links = ctx().links
        assert links is not None
        return slip(done.ticket, done.waiting_before, how, links.url(done.ticket.id))

    @bp.post("/desk/check-in")
    @allow(*ROLES)
    def check_in() -> tuple[str, int]:
        number = request.form.get("appointment", "").strip()[:32]
        who = account().username
        try:
            ticket = run(lambda conn: appointment_admin.check_in_at_desk(conn, ctx(), number,
                                                                          who))
        except UserError as err:
            return page(400, f"未签到：{err.zh}", {"appointment": number})
        except TimeoutError:
            return page(503, BUSY_ZH, {"appointment": number})
        links = ctx().links
        assert links is not None
        return slip(ticket, None, "预约签到", links.url(ticket.id))

    return bp
