"""The hall's service catalogue from a TOML file: departments, items, 一件事, windows."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_CATALOGUE = Path(__file__).with_name("county_hall.toml")

WindowKind = Literal[
    "综合窗口", "部门窗口", "一件事一次办", "帮办代办",
    "跨省通办", "办不成事反映", "统一出件", "咨询台",
]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_HHMM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
Span = Annotated[str, Field(pattern=f"^{_HHMM}-{_HHMM}$")]  # "08:30-12:00"


class Hours(_Entry):
    """When tickets are issued: spans on working days, weekends and statutory holidays."""

    workday: list[Span] = ["08:30-17:30"]  # 午间服务制: no lunch break by default
    weekend: list[Span] = []  # 双休日服务制 (002 annex 2: 9:00-17:00 at duty windows)
    holiday: list[Span] = []  # 法定节假日: closed unless a span is set


class Department(_Entry):
    code: str = Field(pattern=r"^[A-Z]{2,8}$")
    name: str


class Service(_Entry):
    """One item (事项) a citizen can take a ticket for."""

    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$")
    name: str
    department: str
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    conditions: list[str] = Field(min_length=1)
    materials: list[str] = Field(min_length=1)
    legal_days: int = Field(ge=0)
    promised_days: int = Field(ge=0)  # 0: done on the spot (即办件)
    fee: str = "不收费"
    daily_cap: int | None = Field(None, ge=1)  # 放号量: kiosk tickets a day at most
    hours: Hours | None = None  # the hall's hours when not set


class Bundle(Service):
    """一件事: several items from several departments, handled at one window."""

    items: list[str] = Field(min_length=2)


class Staff(_Entry):
    """A member of window staff, and what their staff card shows."""

    number: str = Field(pattern=r"^[A-Za-z0-9]{2,16}$")
    name: str
    department: str
    title: str
    photo: str  # path of the photo on the window screen's disk
    pin_hash: str = Field(pattern=r"^pbkdf2_sha256\$")


class Window(_Entry):
    number: int = Field(ge=1, le=999)
    name: str
    kind: WindowKind
    services: list[str]
    post_a: str | None = None  # staff number of the A post (AB角)
    post_b: str | None = None
    hours: Hours | None = None  # the hall's hours when not set; a duty window opens weekends


class Catalogue(_Entry):
    hall_name: str
    # 公开信息 on the main screen: the complaint line and short notices (max 10, 60 chars each).
    complaint_phone: str = Field("", max_length=40)
    notices: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=10)
    hours: Hours = Hours()
    departments: list[Department]
    services: list[Service]
    bundles: list[Bundle] = []
    windows: list[Window]
    staff: list[Staff] = []

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        departments = {d.code for d in self.departments}
        items = {s.code for s in self.services}
        every = items | {b.code for b in self.bundles}
        if len(every) != len(self.services) + len(self.bundles):
            raise ValueError("service and bundle codes must be unique")
        for s in [*self.services, *self.bundles]:
            if s.department not in departments:
                raise ValueError(f"{s.code}: unknown department {s.department}")
        for b in self.bundles:
            if missing := set(b.items) - items:
                raise ValueError(f"{b.code}: unknown items {sorted(missing)}")
        numbers = [w.number for w in self.windows]
        if len(numbers) != len(set(numbers)):
            raise ValueError("window numbers must be unique")
        staff = {s.number for s in self.staff}
        if len(staff) != len(self.staff):
            raise ValueError("staff numbers must be unique")
        for w in self.windows:
            if missing := set(w.services) - every:
                raise ValueError(f"window {w.number}: unknown services {sorted(missing)}")
            for post in (w.post_a, w.post_b):
                if post is not None and post not in staff:
                    raise ValueError(f"window {w.number}: unknown staff {post}")
        for person in self.staff:
            if person.department not in departments:
                raise ValueError(f"staff {person.number}: unknown department {person.department}")
        return self

    def all_services(self) -> list[Service]:
        """Items and bundles alike: everything a ticket can be taken for."""
        return [*self.services, *self.bundles]

    def department_name(self, code: str) -> str:
        return next(d.name for d in self.departments if d.code == code)


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> Catalogue:
    """Read and check a catalogue file; a bad file fails loudly at start."""
    with path.open("rb") as f:
        return Catalogue.model_validate(tomllib.load(f))
