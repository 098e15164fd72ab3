"""What the hub does for each request, inside the dispatcher's transaction.

Each `on_<action>` either changes the hall and returns its reply, or raises
`UserError` (nothing it wrote stays: the dispatcher wraps it in a savepoint).
Idempotency (a replayed request gets the first answer) is the dispatcher's job,
so handlers stay plain.
"""

from __future__ import annotations

from hub.context import Handler
from hub.handlers.calls import (
    on_call_next,
    on_call_number,
    on_finish_case,
    on_no_show,
    on_recall,
    on_transfer,
)
from hub.handlers.check_in import on_check_in
from hub.handlers.reviews import on_submit_review
from hub.handlers.tickets import (
    on_confirm_ticket,
    on_issue_priority_ticket,
    on_issue_ticket,
    on_void_ticket,
)
from hub.handlers.windows import (
    on_close_window,
    on_open_window,
    on_pause_window,
    on_resume_window,
    on_sign_in,
    on_sign_out,
    on_step_away,
)
from protocol.messages import (
    CallNext,
    CallNumber,
    CheckIn,
    CloseWindow,
    ConfirmTicket,
    FinishCase,
    IssuePriorityTicket,
    IssueTicket,
    NoShow,
    OpenWindow,
    PauseWindow,
    Recall,
    Request,
    ResumeWindow,
    SignIn,
    SignOut,
    StepAway,
    SubmitReview,
    TransferTicket,
    VoidTicket,
)

HANDLERS: dict[type[Request], Handler] = {
    SubmitReview: on_submit_review,
    IssueTicket: on_issue_ticket,
    IssuePriorityTicket: on_issue_priority_ticket,
    ConfirmTicket: on_confirm_ticket,
    VoidTicket: on_void_ticket,
    CheckIn: on_check_in,
    SignIn: on_sign_in,
    SignOut: on_sign_out,
    OpenWindow: on_open_window,
    CloseWindow: on_close_window,
    PauseWindow: on_pause_window,
    StepAway: on_step_away,
    ResumeWindow: on_resume_window,
    CallNext: on_call_next,
    Recall: on_recall,
    NoShow: on_no_show,
    CallNumber: on_call_number,
    TransferTicket: on_transfer,
    FinishCase: on_finish_case,
}
