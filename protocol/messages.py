"""Every message of a hall, with its topic and validation (pydantic 2).

Requests go device → hub and carry a `request_id` made once by the device and
reused on every resend; the hub answers each with exactly one reply, the same
reply every time. States are retained, so a screen that (re)starts gets the
truth from the broker at once.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from protocol.errors import ErrorCode
from protocol.topics import DeviceClass

MAX_PAYLOAD_BYTES = 4096  # the hub refuses anything larger unread

ServiceCode = Annotated[str, Field(pattern=r"^[A-Z0-9_]{2,32}$")]
WindowNo = Annotated[int, Field(ge=1, le=999)]
# A row's id in the hub's database: at most a 32-bit integer, what every database the hub
# runs on stores (a larger one crashed the handler before it was bounded: tests/fuzz).
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
TicketNumber = Annotated[str, Field(pattern=r"^[A-Z]{1,2}[0-9]{3,5}$")]


class Message(BaseModel):
    """Base of every message: unknown fields are an error, messages are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1


# ---------------------------------------------------------------- requests


class Request(Message):
    """A device asks the hub to do one thing."""

    ACTION: ClassVar[str]
    SENDER: ClassVar[DeviceClass]

    request_id: UUID


class IssueTicket(Request):
    """Kiosk: a citizen picked a service; give them a number."""

    ACTION: ClassVar[str] = "issue_ticket"
    SENDER: ClassVar[DeviceClass] = DeviceClass.KIOSK

    service: ServiceCode


PriorityGroup = Literal["elderly", "sick", "disabled", "pregnant", "military"]
# 老弱病残孕军: who the guide desk may give a priority ticket (绿色通道).
PRIORITY_ZH: dict[str, str] = {
    "elderly": "老年人", "sick": "患病群众", "disabled": "残疾人", "pregnant": "孕妇",
    "military": "军人军属",
}


class IssuePriorityTicket(Request):
    """Guide desk: a priority ticket (老弱病残孕军), called before every other ticket."""

    ACTION: ClassVar[str] = "issue_priority_ticket"
    SENDER: ClassVar[DeviceClass] = DeviceClass.GUIDE

    service: ServiceCode
    group: PriorityGroup


StaffNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,16}$")]


class SignIn(Request):
    """Caller: a member of staff signs in at the window with staff number and PIN."""

    ACTION: ClassVar[str] = "sign_in"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    staff_no: StaffNo
    pin: str = Field(pattern=r"^[0-9]{4,8}$")


class SignOut(Request):
    """Caller: the member of staff on duty signs out (no case may be open)."""

    ACTION: ClassVar[str] = "sign_out"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo


class OpenWindow(Request):
    """Caller: staff open their window for service."""

    ACTION: ClassVar[str] = "open_window"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo


class CloseWindow(Request):
    """Caller: staff close their window (no case may be open)."""

    ACTION: ClassVar[str] = "close_window"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo


class CallNext(Request):
    """Caller: call the ticket that has waited longest among the window's services."""

    ACTION: ClassVar[str] = "call_next"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo


CaseOutcome = Literal["on_the_spot", "promised", "joint", "referred", "refused", "incomplete"]
# 五件制 (002 §三.(三).2): what each outcome is called in the hall.
OUTCOME_ZH: dict[str, str] = {
    "on_the_spot": "即办件", "promised": "承诺件", "joint": "联办件",
    "referred": "上报件", "refused": "退办件", "incomplete": "补正",
}


class FinishCase(Request):
    """Caller: the case of the ticket being served is finished, with its outcome (五件制).

    `reason` is required for a refusal (退办件); `missing` lists, from the item's
    materials, what a 补正 one-time notice (一次性告知) asks for; `departments`
    names the other departments of a 联办件.
    """

    ACTION: ClassVar[str] = "finish_case"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    ticket_id: RowId
    outcome: CaseOutcome = "on_the_spot"
    reason: str | None = Field(None, max_length=200)
    missing: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list,
                                                                  max_length=30)
    departments: list[Annotated[str, Field(max_length=8)]] = Field(default_factory=list,
                                                                    max_length=10)


class Recall(Request):
    """Caller: call the ticket being served again (the person has not come yet)."""

    ACTION: ClassVar[str] = "recall"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    ticket_id: RowId


class NoShow(Request):
    """Caller: the called person did not come after the recalls; the ticket leaves the queue."""

    ACTION: ClassVar[str] = "no_show"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    ticket_id: RowId


class CallNumber(Request):
    """Caller: call a no-show ticket again by its number (the person came back late)."""

    ACTION: ClassVar[str] = "call_number"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    number: TicketNumber


class TransferTicket(Request):
    """Caller: send the ticket being served on, to another service or to a given window
    (前台综合受理 → 统一出件). It keeps its number, its place by issue time and its history."""

    ACTION: ClassVar[str] = "transfer"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    ticket_id: RowId
    to_service: ServiceCode | None = None
    to_window: WindowNo | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TransferTicket:
        if (self.to_service is None) == (self.to_window is None):
            raise ValueError("give exactly one of to_service and to_window")
        return self


class PauseWindow(Request):
    """Caller: 暂停服务, with a reason; only between cases."""

    ACTION: ClassVar[str] = "pause_window"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    reason: str = Field(min_length=1, max_length=40)


class StepAway(Request):
    """Caller: the A or B post leaves the window for a moment (to be back within 3 minutes)."""

    ACTION: ClassVar[str] = "step_away"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    post: Literal["A", "B"]


class ResumeWindow(Request):
    """Caller: back at the window after a pause or an absence."""

    ACTION: ClassVar[str] = "resume_window"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo


HandOver = Literal["printed", "screen", "phone", "unsure"]
# How the citizen got the ticket: printed; shown on the kiosk's screen (printer out) and
# confirmed with a tap; taken onto the phone (paperless); or the kiosk restarted in the
# middle of printing and cannot tell, so it counts the ticket as given (never strand one).
VoidReason = Literal["not_taken", "citizen_left"]
# not_taken: shown on screen after a print failure, nobody tapped 我已记下; citizen_left:
# the hub's answer came after the citizen had given up waiting at the kiosk.


class ConfirmTicket(Request):
    """Kiosk: the citizen has the ticket; only now does it join the queue (no ghost tickets)."""

    ACTION: ClassVar[str] = "confirm_ticket"
    SENDER: ClassVar[DeviceClass] = DeviceClass.KIOSK

    ticket_id: RowId
    how: HandOver


class VoidTicket(Request):
    """Kiosk: the number reached nobody; it is recorded with the reason and never called."""

    ACTION: ClassVar[str] = "void_ticket"
    SENDER: ClassVar[DeviceClass] = DeviceClass.KIOSK

    ticket_id: RowId
    reason: VoidReason


class CheckIn(Request):
    """Kiosk: a citizen showed an appointment's QR code at the camera; give them a number.

    `code` is the QR code's text as read, whatever it is: the hub tells an appointment
    code from anything else. The reply is a `TicketIssued`, pending until the kiosk
    confirms, as for `IssueTicket`.
    """

    ACTION: ClassVar[str] = "check_in"
    SENDER: ClassVar[DeviceClass] = DeviceClass.KIOSK

    code: str = Field(min_length=1, max_length=512)


Grade = Literal["very_satisfied", "satisfied", "basic", "unsatisfied", "very_unsatisfied"]
# The national 好差评 grades (国办发〔2019〕51号) with their stars; the bottom two are 差评.
GRADE_ZH: dict[str, str] = {
    "very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
    "unsatisfied": "不满意", "very_unsatisfied": "非常不满意",
}
GRADE_STARS: dict[str, int] = {"very_satisfied": 5, "satisfied": 4, "basic": 3,
                               "unsatisfied": 2, "very_unsatisfied": 1}
BAD_GRADES = frozenset({"unsatisfied", "very_unsatisfied"})


class SubmitReview(Request):
    """Evaluator at a window: the citizen's review of the case just finished (一事一评)."""

    ACTION: ClassVar[str] = "submit_review"
    SENDER: ClassVar[DeviceClass] = DeviceClass.CALLER

    window: WindowNo
    case_id: RowId
    grade: Grade
    reason: str | None = Field(None, max_length=40)  # required for a bad review (差评)


REQUESTS: tuple[type[Request], ...] = (
    IssueTicket, IssuePriorityTicket, ConfirmTicket, VoidTicket, CheckIn,
    SignIn, SignOut, OpenWindow, CloseWindow, CallNext, FinishCase,
    Recall, NoShow, CallNumber, TransferTicket, PauseWindow, StepAway, ResumeWindow,
    SubmitReview,
)
REQUEST_BY_ACTION: dict[str, type[Request]] = {r.ACTION: r for r in REQUESTS}


# ---------------------------------------------------------------- shared parts


class Ticket(Message):
    """A ticket as devices see it."""

    id: int
    number: TicketNumber
    service: ServiceCode
    service_name: str
    department: str
    service_day: date
    issued_at: datetime
    # pending: numbered, not yet in the citizen's hand (never called); void: it never was
    status: Literal["pending", "waiting", "called", "finished", "no_show", "closed", "void"]
    window: WindowNo | None = None
    recalls: int = Field(0, ge=0)  # calls after the first
    target_window: WindowNo | None = None  # after a transfer to a window
    priority: PriorityGroup | None = None  # a guide desk's priority ticket


class CaseRecord(Message):
    """A finished case: the record a review attaches to."""

    id: int
    ticket_id: int
    number: TicketNumber
    service: ServiceCode
    service_name: str
    window: WindowNo
    outcome: CaseOutcome
    outcome_name: str  # 即办件, 承诺件, …
    promised_date: date | None = None  # 承诺件: the promised date, in working days
    reason: str | None = None
    missing: list[str] = []
    departments: list[str] = []
    staff_no: str | None = None  # who handled it
    finished_at: datetime


class ReviewRecord(Message):
    """A review as recorded: tied to the case, its item, window and staff member."""

    id: int
    case_id: int
    number: TicketNumber
    service: ServiceCode
    service_name: str
    window: WindowNo
    staff_no: str | None = None
    grade: Grade
    grade_name: str  # 非常满意 …
    stars: int = Field(ge=1, le=5)
    reason: str | None = None
    channel: Literal["window"] = "window"  # the evaluator; phone and supplementary: issue 8
    created_at: datetime


class StaffCard(Message):
    """The staff card on the window screen (004 §(三).4.(4)): unit, name, title, post, photo."""

    number: str
    name: str
    unit: str
    title: str
    post: Literal["A", "B"] | None  # None: signed in at a window they hold no post at
    photo: str


class WindowState(Message):
    """Retained: what the screen above a window and the main screen show for it."""

    window: WindowNo
    name: str
    status: Literal["closed", "open", "serving", "paused", "away"]
    serving: TicketNumber | None = None
    ticket_id: int | None = None
    service: ServiceCode | None = None  # the item of the ticket served
    service_name: str | None = None
    call_seq: int = Field(0, ge=0)  # grows with every call, so a screen can tell a new call
    staff: StaffCard | None = None  # who is on duty
    pause_reason: str | None = None  # with status "paused"
    away_post: Literal["A", "B"] | None = None  # with status "away"
    paused_since: datetime | None = None  # start of the pause or absence
    # Staff numbers of the window's A and B posts (A/B岗), for the sign-in page.
    post_a: str | None = None
    post_b: str | None = None
    updated_at: datetime


Issuing = Literal["open", "outside_hours", "cap_reached", "closed"]


class ServiceQueue(Message):
    """Waiting figures of one service."""

    service: ServiceCode
    name: str
    prefix: str
    waiting: int = Field(ge=0)
    open_windows: int = Field(ge=0)
    avg_service_s: int = Field(0, ge=0)  # today's average call → finish (or the default)
    est_wait_s: int | None = None  # a newcomer's estimated wait; None: no window open
    longest_wait_s: int = Field(0, ge=0)  # how long the oldest waiting ticket has waited
    issuing: Issuing = "open"  # whether a kiosk may give a ticket now
    notice: str | None = None  # Chinese, why not and when it opens ("下次取号时间：…")


class QueueState(Message):
    """Retained: the queue of the hall and the day's totals."""

    service_day: date
    services: list[ServiceQueue]
    issued: int = Field(ge=0)
    waiting: int = Field(ge=0)
    called: int = Field(ge=0)  # called today, whatever came after
    finished: int = Field(ge=0)
    no_show: int = Field(0, ge=0)  # 过号
    windows_open: int = Field(ge=0)
    updated_at: datetime


class ServiceInfo(Message):
    """One item (or 一件事 bundle) as the kiosk shows it: 一次性告知 before the ticket."""

    code: ServiceCode
    name: str
    kind: Literal["item", "bundle"]
    department: str  # department code
    prefix: str
    conditions: list[str]
    materials: list[str]
    legal_days: int = Field(ge=0)
    promised_days: int = Field(ge=0)  # 0: done on the spot (即办件)
    fee: str
    items: list[ServiceCode] = []  # a bundle's items


class DepartmentInfo(Message):
    """A department stationed in the hall (进驻部门)."""

    code: str
    name: str


class CatalogueState(Message):
    """Retained: what can be applied for in this hall, for the kiosk's pages."""

    hall_name: str
    departments: list[DepartmentInfo]
    services: list[ServiceInfo]  # active ones only
    review_reasons: list[str] = []  # a bad review's reasons, for the evaluator's screen
    complaint_phone: str = ""  # 投诉电话, on the main screen
    notices: list[str] = []  # 公告, short lines on the main screen


PrinterCondition = Literal["ok", "paper_low", "no_paper", "no_answer", "error"]
PRINTER_ZH: dict[str, str] = {
    "ok": "打印机正常", "paper_low": "打印纸将用完", "no_paper": "打印机缺纸",
    "no_answer": "打印机无响应",
    "error": "打印机故障",
}


class DeviceStatus(Message):
    """Retained, published by each device on its own topic; its last will says offline."""

    status: Literal["online", "offline"]
    printer: PrinterCondition | None = None  # None: the device has no printer
    detail: str | None = Field(None, max_length=200)  # English, for the log and the dashboard


HubProblem = Literal["storage_full"]


class HubStatus(Message):
    """Retained: whether the hub is up (the broker publishes 'offline' as its last will),
    and what keeps an online hub from working: "storage_full", its disk is full, so it
    refuses new work (STORAGE_FULL) until there is room again, by itself."""

    status: Literal["online", "offline"]
    problem: HubProblem | None = None


class QuietSpan(Message):
    """A span of the hall's day [start, end) in which the main screen says nothing (calls and
    broadcasts are still shown); it may pass midnight (22:00–07:00)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietSpan:
        if self.start == self.end:
            raise ValueError(f"quiet hours {self.start}–{self.end} are empty")
        return self


class VoiceSettings(Message):
    """Retained: how the main screen says calls, as the hall's managers set it (叫号与广播).

    A field left null is the screen's own setting (HALLQ_DISPLAY_*), so a screen keeps its
    own until the hub says otherwise, and gets its own back when managers reset. Quiet hours
    are read on the hub's clock: the time of the call (its window state's `updated_at`) or
    of the broadcast (`at`), in the hall's zone.
    """

    repeat: int | None = Field(None, ge=1, le=3)  # how many times a call is said
    chime: bool | None = None  # a 叮咚 before each call and broadcast
    quiet_hours: list[QuietSpan] | None = Field(None, max_length=6)  # []: never quiet
    updated_at: datetime


MAX_BROADCAST_CHARS = 80  # what the main screen's broadcast strip shows on two lines


class Broadcast(Message):
    """Event (not retained): a hall announcement (广播, 温馨提示) the main screen shows and says
    once, between calls, never cutting one. `id` is the same on every resend, so a screen
    says a redelivered broadcast once. Only the hall's text: never a name."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    text: str = Field(min_length=1, max_length=MAX_BROADCAST_CHARS, pattern=r"^[^\x00-\x1f]+$")
    at: datetime  # when the hub sent it, on its clock (hall zone)


EVENTS: tuple[type[Message], ...] = (Broadcast,)


# ---------------------------------------------------------------- replies


class Reply(Message):
    """The hub's one answer to one request."""

    request_id: UUID | None
    ok: bool


class Done(Reply):
    """A request that was carried out."""

    ok: Literal[True] = True
    request_id: UUID


class TicketIssued(Done):
    """A number was given; `waiting_before` is how many wait ahead of it.

    A kiosk's ticket is `pending` until the kiosk confirms the citizen has it.
    """

    kind: Literal["ticket_issued"] = "ticket_issued"
    ticket: Ticket
    waiting_before: int = Field(ge=0)
    est_wait_s: int | None = None  # see hub/wait_estimate.py; None: no window open now
    track_url: str | None = None  # the ticket's live page for the citizen's phone


class TicketConfirmed(Done):
    """The ticket is in the citizen's hand and in the queue (or was already)."""

    kind: Literal["ticket_confirmed"] = "ticket_confirmed"
    ticket: Ticket
    waiting_before: int = Field(ge=0)
    est_wait_s: int | None = None


class TicketVoided(Done):
    """The number reached nobody; it is never called."""

    kind: Literal["ticket_voided"] = "ticket_voided"
    ticket: Ticket


class WindowChanged(Done):
    """A window was opened, closed, paused, resumed or signed in at; its new state."""

    kind: Literal["window_changed"] = "window_changed"
    window: WindowState


class TicketAtWindow(Done):
    """Something happened to a ticket at a window: both as they are now."""

    ticket: Ticket
    window: WindowState


class TicketCalled(TicketAtWindow):
    """A ticket was called (or recalled, or called back) to the window."""

    kind: Literal["ticket_called"] = "ticket_called"


class CaseFinished(TicketAtWindow):
    """The case is finished and recorded; the window is free."""

    kind: Literal["case_finished"] = "case_finished"
    case: CaseRecord
    # The ticket's page, where the citizen may review the case on a phone instead (the
    # window screen shows it as a QR code); None when the hub serves no pages.
    review_url: str | None = None


class NoShowRecorded(TicketAtWindow):
    """The ticket is marked as a no-show; the window is free."""

    kind: Literal["no_show"] = "no_show"


class TicketTransferred(TicketAtWindow):
    """The ticket waits again, for its new service or window; this window is free."""

    kind: Literal["transferred"] = "transferred"


class ReviewRecorded(Done):
    """The review is kept; the evaluator thanks the citizen."""

    kind: Literal["review_recorded"] = "review_recorded"
    review: ReviewRecord


class ErrorReply(Reply):
    """A refusal: nothing changed. `request_id` is None when the request was unreadable."""

    kind: Literal["error"] = "error"
    ok: Literal[False] = False
    code: ErrorCode
    message: str  # Chinese, for the screen


AnyReply = Annotated[
    TicketIssued | TicketConfirmed | TicketVoided | WindowChanged | TicketCalled
    | CaseFinished | NoShowRecorded | TicketTransferred | ReviewRecorded | ErrorReply,
    Field(discriminator="kind"),
]
REPLIES: tuple[type[Reply], ...] = (TicketIssued, TicketConfirmed, TicketVoided, WindowChanged,
                                    TicketCalled, CaseFinished, NoShowRecorded,
                                    TicketTransferred, ReviewRecorded, ErrorReply)
reply_adapter: TypeAdapter[AnyReply] = TypeAdapter(AnyReply)


def parse_reply(payload: bytes | str) -> AnyReply:
    """Read any reply from its JSON."""
    return reply_adapter.validate_json(payload)
