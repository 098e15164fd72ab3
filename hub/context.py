"""What every request handler gets besides its connection, and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from hub.clock import Clock
from hub.issuing import IssuingRules
from hub.rules import AppointmentRules, QueueRules, ReviewRules
from hub.sign_in_guard import SignInGuard
from hub.ticket_links import TicketLinks
from hub.work_calendar import WorkCalendar
from protocol.messages import Reply, Request


@dataclass(frozen=True)
class HallContext:
    """The hub's clock (the only one that decides), the hall's rules and working days."""

    clock: Clock
    rules: QueueRules = QueueRules()
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    sign_in_guard: SignInGuard = field(default_factory=SignInGuard)
    issuing: IssuingRules | None = None  # hours and caps; None: always open, no cap
    hall_id: str = ""  # this hall: an appointment code of another hall is refused
    links: TicketLinks | None = None  # each ticket's page for phones; None: no page served
    reviews: ReviewRules = ReviewRules()
    appointments: AppointmentRules = AppointmentRules()
    city: bool = False  # city mode: appointments and reviews go to the city (hub/city_sync.py)


@dataclass
class Outcome:
    """A handler's reply and which retained states it changed."""

    reply: Reply
    windows: set[int] = field(default_factory=set)
    queue: bool = False


Handler = Callable[[Connection, HallContext, str, Request], Outcome]
