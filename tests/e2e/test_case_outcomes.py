"""Finishing a case with its outcome (五件制): the case record a review will attach to."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from sqlalchemy import func, select

from caller_display.caller_core import CallerCore
from hub.app import Hub
from hub.db.schema import cases
from hub.work_calendar import WorkCalendar
from protocol.messages import CaseFinished, ErrorReply, FinishCase
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移 at 5号窗口 公安户政


def serving(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> tuple[CallerCore, int]:
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    window.open()
    window.call_next()
    assert window.state is not None and window.state.ticket_id is not None
    return window, window.state.ticket_id


def finish(window: CallerCore, ticket_id: int, **outcome: object) -> object:
    request = FinishCase(request_id=uuid4(), window=WINDOW, ticket_id=ticket_id, **outcome)
    return window.link.send(request).wait(5)


def test_on_the_spot_is_the_default_and_is_recorded(hub: Hub, make_link: LinkFactory,
                                                    tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    done = window.finish()
    assert isinstance(done, CaseFinished)
    case = done.case
    assert (case.ticket_id, case.number, case.window, case.service) == (
        ticket_id, "A001", WINDOW, SERVICE)
    assert (case.outcome, case.outcome_name, case.promised_date) == ("on_the_spot", "即办件", None)


def test_promised_case_gets_its_date_in_working_days(hub: Hub, make_link: LinkFactory,
                                                     tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    done = finish(window, ticket_id, outcome="promised")
    assert isinstance(done, CaseFinished)
    today = hub.clock.service_day()
    days = next(s.promised_days for s in hub.catalogue.services if s.code == SERVICE)
    assert done.case.outcome_name == "承诺件"
    assert done.case.promised_date == WorkCalendar().add_working_days(today, days)
    assert done.case.promised_date > today


def test_refusal_needs_a_written_reason(hub: Hub, make_link: LinkFactory,
                                        tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    bare = finish(window, ticket_id, outcome="refused", reason="  ")
    assert isinstance(bare, ErrorReply) and bare.message == "退办须写明理由"
    done = finish(window, ticket_id, outcome="refused", reason="不属于本级受理范围")
    assert isinstance(done, CaseFinished) and done.case.reason == "不属于本级受理范围"
    assert done.case.outcome_name == "退办件"


def test_incomplete_lists_missing_materials_from_the_catalogue(hub: Hub, make_link: LinkFactory,
                                                              tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    none = finish(window, ticket_id, outcome="incomplete")
    assert isinstance(none, ErrorReply) and none.message == "补正须列明所缺材料"
    odd = finish(window, ticket_id, outcome="incomplete", missing=["结婚证"])
    assert isinstance(odd, ErrorReply) and odd.message == "所列材料不在该事项的材料清单中"
    done = finish(window, ticket_id, outcome="incomplete",
                  missing=["居民户口簿原件", "投靠类提供亲属关系证明"])
    assert isinstance(done, CaseFinished)
    assert done.case.missing == ["居民户口簿原件", "投靠类提供亲属关系证明"]


def test_joint_case_names_known_departments(hub: Hub, make_link: LinkFactory,
                                            tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    bad = finish(window, ticket_id, outcome="joint", departments=["NASA"])
    assert isinstance(bad, ErrorReply) and bad.message == "联办部门须从部门清单中选择"
    done = finish(window, ticket_id, outcome="joint", departments=["MZ", "RS"])
    assert isinstance(done, CaseFinished) and done.case.departments == ["MZ", "RS"]


def test_one_case_per_ticket_even_when_finish_is_sent_twice(hub: Hub, make_link: LinkFactory,
                                                           tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    request = FinishCase(request_id=uuid4(), window=WINDOW, ticket_id=ticket_id)
    first = window.link.send(request).wait(5)
    again = window.link.send(request).wait(5)
    other = finish(window, ticket_id)  # a second press, new request id
    assert isinstance(first, CaseFinished) and first == again
    assert isinstance(other, ErrorReply) and other.message == "该号码不在本窗口办理中"
    with hub.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(cases)) == 1


def test_refused_finish_leaves_the_case_open(hub: Hub, make_link: LinkFactory,
                                             tmp_path: Path) -> None:
    window, ticket_id = serving(hub, make_link, tmp_path)
    finish(window, ticket_id, outcome="refused")
    assert window.state is not None and window.state.status == "serving"
    with hub.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(cases)) == 0
