"""The protocol holds together: messages round-trip, topics meet their subscriptions, docs match."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from paho.mqtt.client import topic_matches_sub
from pydantic import BaseModel, ValidationError

from hub.handlers import HANDLERS
from protocol import city_sync, docgen, topics
from protocol.codes import parse_ticket_code, ticket_code
from protocol.errors import ZH, ErrorCode
from protocol.messages import (
    REPLIES,
    REQUESTS,
    CallNext,
    CallNumber,
    CaseFinished,
    CaseRecord,
    CatalogueState,
    CheckIn,
    CloseWindow,
    ConfirmTicket,
    DepartmentInfo,
    DeviceStatus,
    ErrorReply,
    FinishCase,
    HubStatus,
    IssuePriorityTicket,
    IssueTicket,
    NoShow,
    NoShowRecorded,
    OpenWindow,
    PauseWindow,
    QueueState,
    Recall,
    Reply,
    Request,
    ResumeWindow,
    ReviewRecord,
    ReviewRecorded,
    ServiceInfo,
    ServiceQueue,
    SignIn,
    SignOut,
    StaffCard,
    StepAway,
    SubmitReview,
    Ticket,
    TicketCalled,
    TicketConfirmed,
    TicketIssued,
    TicketTransferred,
    TicketVoided,
    TransferTicket,
    VoidTicket,
    WindowChanged,
    WindowState,
    parse_reply,
)
from protocol.topics import DeviceClass

HALL, DEVICE = "hall-1", "dev-7"
RID = UUID("2f1c4a8e-9b7d-4e0a-8c3f-5d6e7f809a1b")
NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
DAY = date(2024, 5, 6)
CJK = re.compile(r"[\u4e00-\u9fff]")

TICKET = Ticket(id=12, number="A012", service="HUKOU_MOVE", service_name="户口迁移",
                department="公安", service_day=DAY, issued_at=NOW, status="called", window=3)
WINDOW = WindowState(window=3, name="3号窗口", status="serving", serving="A012", ticket_id=12,
                     service_name="户口迁移", call_seq=5, updated_at=NOW,
                     staff=StaffCard(number="S031", name="王芳", unit="县公安局",
                                     title="窗口工作人员", post="A", photo="photos/S031.jpg"))

REQUEST_SAMPLES: dict[type[Request], Request] = {
    IssueTicket: IssueTicket(request_id=RID, service="HUKOU_MOVE"),
    IssuePriorityTicket: IssuePriorityTicket(request_id=RID, service="HUKOU_MOVE",
                                             group="elderly"),
    SignIn: SignIn(request_id=RID, window=3, staff_no="S031", pin="123456"),
    SignOut: SignOut(request_id=RID, window=3),
    OpenWindow: OpenWindow(request_id=RID, window=3),
    CloseWindow: CloseWindow(request_id=RID, window=3),
    CallNext: CallNext(request_id=RID, window=3),
    FinishCase: FinishCase(request_id=RID, window=3, ticket_id=12, outcome="refused",
                           reason="不属于本级受理范围"),
    Recall: Recall(request_id=RID, window=3, ticket_id=12),
    NoShow: NoShow(request_id=RID, window=3, ticket_id=12),
    CallNumber: CallNumber(request_id=RID, window=3, number="A012"),
    PauseWindow: PauseWindow(request_id=RID, window=3, reason="业务培训"),
    StepAway: StepAway(request_id=RID, window=3, post="B"),
    ResumeWindow: ResumeWindow(request_id=RID, window=3),
    TransferTicket: TransferTicket(request_id=RID, window=3, ticket_id=12, to_window=16),
    ConfirmTicket: ConfirmTicket(request_id=RID, ticket_id=12, how="printed"),
    VoidTicket: VoidTicket(request_id=RID, ticket_id=12, reason="citizen_left"),
    CheckIn: CheckIn(request_id=RID, code="HALLQ:A:hall-1:WyJYcTN2OUprMiIsIkhVS09VX01PVkUiLCIy"
                                           "MDI0LTA1LTA2IiwiMDk6MDAiLCIwOTozMCJd.h-fLDk6Yldu_4Pwb"),
    SubmitReview: SubmitReview(request_id=RID, window=3, case_id=7, grade="unsatisfied",
                               reason="等候时间太长"),
}
REPLY_SAMPLES: dict[type[Reply], Reply] = {
    TicketIssued: TicketIssued(request_id=RID, ticket=TICKET, waiting_before=4,
                               track_url="http://192.168.1.10:8080/t/abc"),
    TicketConfirmed: TicketConfirmed(request_id=RID, ticket=TICKET, waiting_before=4,
                                     est_wait_s=600),
    TicketVoided: TicketVoided(request_id=RID, ticket=TICKET),
    ReviewRecorded: ReviewRecorded(request_id=RID, review=ReviewRecord(
        id=1, case_id=7, number="A012", service="HUKOU_MOVE", service_name="户口迁移", window=3,
        staff_no="S031", grade="unsatisfied", grade_name="不满意", stars=2,
        reason="等候时间太长", created_at=NOW)),
    WindowChanged: WindowChanged(request_id=RID, window=WINDOW),
    TicketCalled: TicketCalled(request_id=RID, ticket=TICKET, window=WINDOW),
    CaseFinished: CaseFinished(request_id=RID, ticket=TICKET, window=WINDOW, case=CaseRecord(
        id=3, ticket_id=12, number="A012", service="HUKOU_MOVE", service_name="户口迁移",
        window=3, outcome="incomplete", outcome_name="补正", missing=["户口簿原件"],
        finished_at=NOW)),
    NoShowRecorded: NoShowRecorded(request_id=RID, ticket=TICKET, window=WINDOW),
    TicketTransferred: TicketTransferred(request_id=RID, ticket=TICKET, window=WINDOW),
    ErrorReply: ErrorReply(request_id=None, code=ErrorCode.QUEUE_EMPTY,
                           message=ZH[ErrorCode.QUEUE_EMPTY]),
}
STATE_SAMPLES: list[BaseModel] = [
    WINDOW,
    WindowState(window=1, name="1号窗口", status="closed", updated_at=NOW),
    WindowState(window=2, name="2号窗口", status="away", away_post="A", paused_since=NOW,
                updated_at=NOW),
    QueueState(service_day=DAY, issued=9, waiting=4, called=3, finished=2, windows_open=2,
               updated_at=NOW, services=[ServiceQueue(service="HUKOU_MOVE", name="户口迁移",
                                                      prefix="A", waiting=4, open_windows=2)]),
    HubStatus(status="online"),
    HubStatus(status="offline"),
    HubStatus(status="online", problem="storage_full"),
    CatalogueState(hall_name="示范县政务服务中心",
                   departments=[DepartmentInfo(code="GA", name="县公安局")],
                   services=[ServiceInfo(code="HUKOU_MOVE", name="户口迁移", kind="item",
                                         department="GA", prefix="A", conditions=["本县户口"],
                                         materials=["居民户口簿"], legal_days=20,
                                         promised_days=5, fee="不收费")]),
    DeviceStatus(status="online", printer="no_paper"),
    DeviceStatus(status="offline"),
]


# ---------------------------------------------------------------- messages


def test_samples_cover_every_message() -> None:
    assert set(REQUEST_SAMPLES) == set(REQUESTS)
    assert set(REPLY_SAMPLES) == set(REPLIES)


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.__name__)
def test_request_round_trips(cls: type[Request]) -> None:
    msg = REQUEST_SAMPLES[cls]
    assert cls.model_validate_json(msg.model_dump_json()) == msg


@pytest.mark.parametrize("cls", REPLIES, ids=lambda c: c.__name__)
def test_reply_round_trips_through_parse_reply(cls: type[Reply]) -> None:
    msg = REPLY_SAMPLES[cls]
    back = parse_reply(msg.model_dump_json())
    assert type(back) is cls
    assert back == msg


@pytest.mark.parametrize("msg", STATE_SAMPLES, ids=lambda m: type(m).__name__)
def test_state_round_trips(msg: BaseModel) -> None:
    assert type(msg).model_validate_json(msg.model_dump_json()) == msg


@pytest.mark.parametrize("cls", [*REQUESTS, *REPLIES, WindowState, QueueState, HubStatus],
                         ids=lambda c: c.__name__)
def test_unknown_field_is_rejected(cls: type[BaseModel]) -> None:
    sample = {**REQUEST_SAMPLES, **REPLY_SAMPLES}.get(cls) or next(
        s for s in STATE_SAMPLES if type(s) is cls)
    data: dict[str, Any] = sample.model_dump(mode="json")
    cls.model_validate(data)  # the sample itself is valid
    with pytest.raises(ValidationError, match="extra"):
        cls.model_validate({**data, "surprise": 1})


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.__name__)
def test_request_without_request_id_is_rejected(cls: type[Request]) -> None:
    data = REQUEST_SAMPLES[cls].model_dump(mode="json")
    del data["request_id"]
    with pytest.raises(ValidationError, match="request_id"):
        cls.model_validate(data)


def test_every_request_has_a_handler_and_back() -> None:
    missing = [r.__name__ for r in REQUESTS if r not in HANDLERS]
    stray = [r.__name__ for r in HANDLERS if r not in REQUESTS]
    assert not missing, f"requests without a handler in hub.handlers.HANDLERS: {missing}"
    assert not stray, f"handlers for classes not in protocol.messages.REQUESTS: {stray}"


# ---------------------------------------------------------------- topics


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.__name__)
def test_request_topic_reaches_the_hub(cls: type[Request]) -> None:
    topic = topics.request_topic(HALL, cls.SENDER, DEVICE, cls.ACTION)
    assert topic_matches_sub(topics.requests_filter(HALL), topic)
    assert not topic_matches_sub(topics.requests_filter("other-hall"), topic)
    assert topics.parse_request_topic(topic) == topics.RequestAddress(
        HALL, cls.SENDER, DEVICE, cls.ACTION)


@pytest.mark.parametrize("device_class", list(DeviceClass))
def test_reply_topic_is_not_a_request(device_class: DeviceClass) -> None:
    topic = topics.reply_topic(HALL, device_class, DEVICE)
    assert not topic_matches_sub(topics.requests_filter(HALL), topic)
    assert not topic_matches_sub(topics.states_filter(HALL), topic)
    assert topics.parse_request_topic(topic) is None


@pytest.mark.parametrize("topic", [
    topics.window_state_topic(HALL, 3),
    topics.queue_state_topic(HALL),
    topics.hub_status_topic(HALL),
    topics.catalogue_state_topic(HALL),
])
def test_state_topics_reach_devices_not_the_hub(topic: str) -> None:
    assert topic_matches_sub(topics.states_filter(HALL), topic)
    assert not topic_matches_sub(topics.requests_filter(HALL), topic)


def test_a_device_reading_some_windows_still_reads_every_other_state() -> None:
    """state_filters() names the hall's states one by one for a kiosk or a window: a state
    topic added later must be added there too, or kiosks and windows would never see it."""
    one_by_one = topics.state_filters(HALL, ())
    for name in dir(topics):
        made = getattr(topics, name)
        if name.endswith("_topic") and not name.startswith("parse_") and callable(made) \
                and name != "window_state_topic":
            try:
                topic = made(HALL)
            except TypeError:  # not a topic of the hall alone (a device's, a request's)
                continue
            if topic_matches_sub(topics.states_filter(HALL), topic):
                assert topic in one_by_one, name
    window_3 = topics.state_filters(HALL, (3,))
    assert topics.window_state_topic(HALL, 3) in window_3
    assert not any(topic_matches_sub(f, topics.window_state_topic(HALL, 4)) for f in window_3)
    assert topics.state_filters(HALL) == [topics.states_filter(HALL)]


def test_device_status_reaches_the_hub_only_from_its_device() -> None:
    topic = topics.device_status_topic(HALL, DeviceClass.KIOSK, "kiosk-1")
    assert topic_matches_sub(topics.device_status_filter(HALL), topic)
    assert not topic_matches_sub(topics.requests_filter(HALL), topic)
    assert not topic_matches_sub(topics.states_filter(HALL), topic)
    assert topics.parse_device_status_topic(topic) == (DeviceClass.KIOSK, "kiosk-1")
    assert topics.parse_device_status_topic(topics.queue_state_topic(HALL)) is None
    assert "pattern write hall/+/%u/%c/status" in topics.broker_acl()


def test_window_state_topic_parses_back() -> None:
    assert topics.parse_window_state_topic(topics.window_state_topic(HALL, 42)) == 42
    assert topics.parse_window_state_topic(topics.queue_state_topic(HALL)) is None


@pytest.mark.parametrize("topic", [
    "hall/hall-1/kiosk/k1/req",                     # too short
    "hall/hall-1/kiosk/k1/req/issue_ticket/extra",  # too deep
    "hall/hall-1/kiosk/k1/reply",
    "hall/hall-1/kiosk/k1/rq/issue_ticket",
    "room/hall-1/kiosk/k1/req/issue_ticket",
    "hall/hall-1/printer/k1/req/issue_ticket",     # unknown device class
    "hall/hall-1/Kiosk/k1/req/issue_ticket",
    "hall/A B/kiosk/k1/req/issue_ticket",          # bad hall id
    "hall/hall-1/kiosk/A B/req/issue_ticket",      # bad device id
    "hall/x/y/kiosk/k1/req/issue_ticket",          # a slash in the hall id
    "hall/hall-1/kiosk/x/y/req/issue_ticket",      # a slash in the device id
    "hall/hall-1/kiosk/-k1/req/issue_ticket",
    "hall//kiosk/k1/req/issue_ticket",
])
def test_parse_request_topic_rejects_malformed(topic: str) -> None:
    assert topics.parse_request_topic(topic) is None


# ---------------------------------------------------------------- broker ACL


def _acl_write_patterns() -> list[str]:
    return [line.split(" ", 2)[2] for line in topics.broker_acl().splitlines()
            if line.startswith("pattern write ")]


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.__name__)
def test_acl_lets_sender_write_its_own_requests(cls: type[Request]) -> None:
    topic = topics.request_topic(HALL, cls.SENDER, DEVICE, cls.ACTION)

    def allowed(user: str, client_id: str) -> bool:
        return any(topic_matches_sub(p.replace("%u", user).replace("%c", client_id), topic)
                   for p in _acl_write_patterns())

    assert allowed(cls.SENDER.value, DEVICE), f"ACL does not let {cls.SENDER} write {topic}"
    assert not allowed(cls.SENDER.value, "someone-else")
    others = [c for c in DeviceClass if c not in (cls.SENDER, DeviceClass.HUB)]
    assert not any(allowed(c.value, DEVICE) for c in others)


# ---------------------------------------------------------------- docs, errors, codes


def test_protocol_doc_is_up_to_date() -> None:
    current = docgen.DOC_PATH.read_text(encoding="utf-8") if docgen.DOC_PATH.exists() else ""
    assert docgen.render() == current, "docs/protocol.md is out of date: run ./hallq docs"


def test_doc_names_every_message_and_code() -> None:
    text = docgen.render()
    for cls in [*REQUESTS, *REPLIES, WindowState, QueueState, HubStatus]:
        assert f"### {cls.__name__}\n" in text
    for code in ErrorCode:
        assert f"| `{code.value}` | {ZH[code]} |" in text
    assert topics.broker_acl() in text


def test_docgen_check_reports_a_stale_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docgen, "DOC_PATH", tmp_path / "docs" / "protocol.md")
    assert docgen.main(["--check"]) == 1  # missing
    assert docgen.main(["--write"]) == 0
    assert docgen.main(["--check"]) == 0
    docgen.DOC_PATH.write_text("stale\n", encoding="utf-8")
    assert docgen.main(["--check"]) == 1


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_chinese_text(code: ErrorCode) -> None:
    assert CJK.search(ZH.get(code, "")), f"{code} has no Chinese text in protocol.errors.ZH"


def test_ticket_code_round_trips() -> None:
    parsed = parse_ticket_code(ticket_code(HALL, TICKET))
    assert parsed is not None
    assert (parsed.hall_id, parsed.service_day, parsed.number, parsed.ticket_id) == (
        HALL, TICKET.service_day, TICKET.number, TICKET.id)


@pytest.mark.parametrize("text", [
    "", "hello", "HALLQ:T:hall-1:2024-05-06:A012", "HALLQ:T:hall-1:2024-05-06:a012:12",
    "HALLQ:X:hall-1:2024-05-06:A012:12", "HALLQ:T:Hall 1:2024-05-06:A012:12",
])
def test_garbage_is_not_a_ticket_code(text: str) -> None:
    assert parse_ticket_code(text) is None


def test_a_hall_reads_a_newer_citys_answer_and_the_city_refuses_unknown_events() -> None:
    """Halls are updated one by one, the city first: its answer may carry what a hall does
    not know yet (as `warnings` once did); a hall's events stay strictly checked."""
    answer = city_sync.SyncAnswer.model_validate(
        {"accepted": 1, "duplicates": 0, "changes": [], "more": False,
         "warnings": [{"appointment": "a1", "count": 2}], "added_later": {"x": 1}})
    assert answer.warnings == [city_sync.NoShowWarning(appointment="a1", count=2)]
    with pytest.raises(ValidationError, match="extra"):
        city_sync.SyncRequest.model_validate({"hall": "h", "cursor": 0, "events": [],
                                              "added_later": 1})
