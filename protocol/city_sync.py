"""What a hall's hub and the city service say to each other in city mode (docs/scaling.md).

One exchange is one HTTP POST from the hub to the city's `/api/v1/sync`: the hall's next
events from its outbox, in order, and the number of the last blacklist change it has
applied (its cursor); the answer says how many events were new and how many the city had
already (a resend), and carries the city's blacklist changes after the cursor. Every
event has an id made once by the hall: the city applies each id once, whatever is resent.

No clear ID number, no name, no phone number crosses: a person is the keyed hash of their
ID number (the city-wide identity key, hub/identity.py), shown masked on a ban.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol.messages import Grade, ServiceCode, TicketNumber, WindowNo
from protocol.topics import ID_PATTERN

SYNC_PATH = "/api/v1/sync"
MAX_EVENTS = 1000  # in one request; the hub sends fewer (hub/city_sync.py BATCH)

EventId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
HallId = Annotated[str, Field(pattern=f"^{ID_PATTERN}$")]
IdHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
AppointmentStatus = Literal["booked", "pending", "refused", "cancelled", "checked_in",
                            "no_show", "excused"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Event(_Wire):
    id: EventId  # made once by the hall, the same on every resend
    seq: int = Field(ge=1)  # the hall's outbox order
    at: datetime  # when it happened, the hall's clock (naive UTC)
    queued: float | None = None  # the hall machine's epoch seconds at the commit (lag figures)


class AppointmentEvent(_Event):
    """A booking as it is after a change: booked, confirmed, cancelled, checked in, no-show,
    excused. The masked forms come with a no-show only (a ban shows them)."""

    kind: Literal["appointment"] = "appointment"
    appointment: str = Field(min_length=1, max_length=32)
    service: ServiceCode
    day: date
    start: time
    end: time
    status: AppointmentStatus
    channel: str = Field(max_length=8)
    id_hash: IdHash
    id_masked: str | None = Field(None, max_length=18)
    name_masked: str | None = Field(None, max_length=24)


class ReviewEvent(_Event):
    """A review (好差评) as the hall recorded it: case, item, window, staff, grade; never the
    reviewer."""

    kind: Literal["review"] = "review"
    review: int = Field(ge=1)  # the hall's review id
    case_id: int
    number: TicketNumber
    service: ServiceCode
    service_name: str = Field(max_length=100)
    window: WindowNo
    staff_no: str | None = Field(None, max_length=16)
    grade: Grade
    stars: int = Field(ge=1, le=5)
    reason: str | None = Field(None, max_length=100)
    channel: Literal["window", "phone", "call", "sms", "default"]
    created_at: datetime


class LiftEvent(_Event):
    """A manager of the hall lifted a ban, with a written reason: lifted city-wide."""

    kind: Literal["blacklist_lift"] = "blacklist_lift"
    id_hash: IdHash
    since: date
    who: str = Field(max_length=50)
    reason: str = Field(min_length=1, max_length=200)


CityEvent = Annotated[AppointmentEvent | ReviewEvent | LiftEvent, Field(discriminator="kind")]


class SyncRequest(_Wire):
    hall: HallId
    cursor: int = Field(ge=0)  # the last blacklist change the hall has applied
    events: list[CityEvent] = Field(default_factory=list, max_length=MAX_EVENTS)


class BanChange(_Wire):
    """A city ban as it stands after its latest change (`seq`, city-wide order)."""

    seq: int = Field(ge=1)
    id_hash: IdHash
    id_masked: str
    name_masked: str
    since: date
    until: date  # the first day booking opens again
    hall: HallId  # the hall of the no-show that completed it
    appointment: str  # that no-show's booking
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None


class NoShowWarning(_Wire):
    """One of the asking hall's no-shows is the person's second within half a year,
    counted over every hall: the hall (it alone has the phone number) sends the warning SMS
    that its own count would have missed."""

    appointment: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=2)  # the person's no-shows in the city, this one included


class SyncAnswer(_Wire):
    """The city's answer. Fields the hall does not know are ignored, so that a city updated
    before its halls (they are updated one by one) can add to its answer."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    ok: Literal[True] = True
    accepted: int = Field(ge=0)  # new events applied
    duplicates: int = Field(ge=0)  # events the city had already: applied once, not again
    changes: list[BanChange]
    more: bool  # more changes after the last one here: ask again at once
    # for the batch's no-shows, new or resent (a lost answer): the hall sends each SMS once
    warnings: list[NoShowWarning] = []
