"""Transfer (前台综合受理 → 统一出件): the ticket keeps its number, its place and its history."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from hub.app import Hub
from hub.db.schema import ticket_events
from protocol.messages import (
    CaseFinished,
    ErrorReply,
    FinishCase,
    TicketCalled,
    TicketTransferred,
    TransferTicket,
)
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk


def transfer(window, ticket_id: int, **target: object) -> object:  # type: ignore[no-untyped-def]
    req = TransferTicket(request_id=uuid4(), window=window.window, ticket_id=ticket_id, **target)
    return window.link.send(req).wait(5)


def test_transfer_to_the_issue_window_keeps_number_place_and_history(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    k.take_ticket("SC_GSDJ")  # E001 公司设立登记, at 3号 企业开办综合受理
    k.take_ticket("SC_GSDJ")  # E002
    front, issue = caller(make_link, 3), caller(make_link, 16)  # 16号 统一出件
    front.open()
    issue.open()
    first = front.call_next()
    assert isinstance(first, TicketCalled) and first.ticket.number == "E001"
    moved = transfer(front, first.ticket.id, to_window=16)
    assert isinstance(moved, TicketTransferred)
    assert (moved.ticket.number, moved.ticket.status, moved.ticket.target_window) == (
        "E001", "waiting", 16)
    assert moved.window.status == "open", "the front window is free again"
    nxt = front.call_next()
    assert isinstance(nxt, TicketCalled) and nxt.ticket.number == "E002", \
        "a ticket sent to window 16 is not called by the others"
    # 16 also serves SC_GSDJ: E002 is being served at 3, E001 keeps its place at 16
    out = issue.call_next()
    assert isinstance(out, TicketCalled) and out.ticket.number == "E001"
    assert out.ticket.issued_at == first.ticket.issued_at
    assert isinstance(issue.finish(), CaseFinished)
    with hub.engine.connect() as conn:
        events = [(r.event, r.window_number) for r in conn.execute(
            select(ticket_events).where(ticket_events.c.ticket_id == first.ticket.id)
            .order_by(ticket_events.c.id))]
    assert events == [("called", 3), ("transferred", 3), ("called", 16), ("finished", 16)]


def test_transfer_to_a_service_keeps_the_original_place(hub: Hub, make_link: LinkFactory,
                                                        tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    k.take_ticket("GA_HJQY")  # A001, earlier than …
    k.take_ticket("RS_SBKSL")  # … B001
    police, social = caller(make_link, 5), caller(make_link, 1)
    police.open()
    called = police.call_next()
    assert isinstance(called, TicketCalled)
    nobody = transfer(police, called.ticket.id, to_service="RS_SBKSL")
    assert isinstance(nobody, ErrorReply)
    assert nobody.message == "该事项当前没有开放的窗口，请选择其他事项或窗口"
    social.open()
    moved = transfer(police, called.ticket.id, to_service="RS_SBKSL")
    assert isinstance(moved, TicketTransferred) and moved.ticket.service == "RS_SBKSL"
    first_at_social = social.call_next()
    assert isinstance(first_at_social, TicketCalled)
    assert first_at_social.ticket.number == "A001", "issued before B001, so called before it"


def test_transfer_to_a_closed_window_is_refused(hub: Hub, make_link: LinkFactory,
                                                tmp_path: Path) -> None:
    kiosk(make_link, tmp_path, hub).take_ticket("SC_GSDJ")
    front = caller(make_link, 3)
    front.open()
    called = front.call_next()
    assert isinstance(called, TicketCalled)
    refused = transfer(front, called.ticket.id, to_window=16)
    assert isinstance(refused, ErrorReply) and refused.message == "转往的窗口未开放，请选择其他窗口"
    assert front.state is not None and front.state.serving == "E001", "nothing changed"


def test_finish_and_transfer_of_one_ticket_at_once_only_one_wins(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    kiosk(make_link, tmp_path, hub).take_ticket("SC_GSDJ")
    front, issue = caller(make_link, 3), caller(make_link, 16)
    front.open()
    issue.open()
    called = front.call_next()
    assert isinstance(called, TicketCalled)
    tid = called.ticket.id
    go = threading.Barrier(2)
    replies: dict[str, object] = {}

    def press(name: str, req: FinishCase | TransferTicket) -> None:
        go.wait()
        replies[name] = front.link.send(req).wait(5)

    threads = [
        threading.Thread(target=press, args=("finish", FinishCase(
            request_id=uuid4(), window=3, ticket_id=tid))),
        threading.Thread(target=press, args=("transfer", TransferTicket(
            request_id=uuid4(), window=3, ticket_id=tid, to_window=16))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [k for k, r in replies.items() if not isinstance(r, ErrorReply)]
    lost = [r for r in replies.values() if isinstance(r, ErrorReply)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].message == "该号码不在本窗口办理中"
    next_at_16 = issue.call_next()
    if won == ["transfer"]:
        assert isinstance(next_at_16, TicketCalled) and next_at_16.ticket.id == tid
    else:
        assert isinstance(next_at_16, ErrorReply) and next_at_16.code == "QUEUE_EMPTY"


def test_a_transfer_names_exactly_one_target() -> None:
    with pytest.raises(ValidationError):
        TransferTicket(request_id=uuid4(), window=3, ticket_id=1)
    with pytest.raises(ValidationError):
        TransferTicket(request_id=uuid4(), window=3, ticket_id=1, to_window=16,
                       to_service="SC_GSDJ")
