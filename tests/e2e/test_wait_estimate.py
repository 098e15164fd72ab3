"""The estimated wait a citizen reads on the ticket and the screens (hub/wait_estimate.py).

Each case here is played at real windows through the hub; times of cases are made by
moving the hall's clock between the call and the finish. Expected figures are worked out
from the rule in words: the windows call in the hub's order, each case taking its
service's average today (leaning on the hall's, itself leaning on 8 minutes early on).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from caller_display.caller_core import CallerCore
from hub.app import Hub
from hub.clock import ShiftedClock
from hub.wait_estimate import DEFAULT_SERVICE_S
from kiosk.core import KioskCore
from protocol.messages import (
    IssuePriorityTicket,
    QueueState,
    ServiceQueue,
    TicketCalled,
    TicketIssued,
    TicketTransferred,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

DEFAULT = DEFAULT_SERVICE_S  # 8 minutes, before the day has cases


def lean(cases: list[int], prior: float) -> float:
    """A few cases' average leaning on `prior` as if three more cases had taken it."""
    return (sum(cases) + 3 * prior) / (len(cases) + 3)


def move_clock(hub: Hub, minutes: float) -> None:
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.offset += timedelta(minutes=minutes)


def estimate(k: KioskCore, service: str) -> int | None:
    """A new ticket of `service`; the wait printed on it."""
    issued = k.take_ticket(service).issued
    assert issued is not None
    return issued.est_wait_s


def serve_case(hub: Hub, k: KioskCore, window: CallerCore, service: str,
               minutes: float) -> None:
    """A citizen comes, is called at `window` and served for `minutes`."""
    k.take_ticket(service)
    assert isinstance(window.call_next(), TicketCalled)
    move_clock(hub, minutes)
    window.finish()


def queue_screen(make_link: LinkFactory) -> Callable[[str, int], QueueState]:
    """A screen; returns a function waiting for the queue state with `waiting` for a service."""
    latest: list[QueueState] = []
    make_link(DeviceClass.DISPLAY, "screen-q",
              on_state=lambda s, live: latest.append(s) if isinstance(s, QueueState) else None)

    def state_with(service: str, waiting: int) -> QueueState:
        def fresh() -> QueueState | None:
            return latest[-1] if latest and of(latest[-1], service).waiting == waiting else None
        found: QueueState = eventually(fresh, what=f"the queue of {service}, {waiting} waiting")
        return found

    return state_with


def of(state: QueueState, service: str) -> ServiceQueue:
    return next(s for s in state.services if s.service == service)


def test_no_staffed_window_no_guess(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    screen = queue_screen(make_link)
    assert estimate(kiosk(make_link, tmp_path, hub), "GA_HJQY") is None
    assert of(screen("GA_HJQY", 1), "GA_HJQY").est_wait_s is None, "nor does the screen"


def test_two_windows_take_turns(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    for n in (5, 6):  # both serve 户口迁移; they are open and nobody is being served
        caller(make_link, n).open()
    waits = [estimate(k, "GA_HJQY") for _ in range(5)]
    # the first two are called at once, the next two after one case, the fifth after two
    assert waits == [0, 0, DEFAULT, DEFAULT, 2 * DEFAULT]
    q = of(queue_screen(make_link)("GA_HJQY", 5), "GA_HJQY")
    assert (q.open_windows, q.est_wait_s) == (2, 2 * DEFAULT), "a sixth would come with the fifth"


def test_each_ticket_ahead_counts_its_own_service_time(hub: Hub, make_link: LinkFactory,
                                                       tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 6)  # 居民身份证, 居住证, 户口迁移: one window for all three
    window.open()
    for _ in range(3):
        serve_case(hub, k, window, "GA_SFZHL", minutes=2)  # 居民身份证 cases go fast today
    hall = lean([120] * 3, DEFAULT)  # 5 minutes: three short cases, three of the default
    id_card = lean([120] * 3, hall)  # 3.5 minutes
    k.take_ticket("GA_SFZHL")
    k.take_ticket("GA_SFZHL")
    # 户口迁移 has no case yet today: the hall's average; the two 身份证 ahead share the window
    assert estimate(k, "GA_HJQY") == round(2 * id_card)
    q = of(queue_screen(make_link)("GA_HJQY", 1), "GA_JZZ")
    assert q.est_wait_s == round(2 * id_card + hall), "居住证 waits for all three at window 6"


def test_a_window_in_the_middle_of_a_case_frees_up_sooner(hub: Hub, make_link: LinkFactory,
                                                          tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 6)
    window.open()
    k.take_ticket("GA_SFZHL")
    assert isinstance(window.call_next(), TicketCalled)
    move_clock(hub, 2)
    assert abs((estimate(k, "GA_SFZHL") or 0) - (DEFAULT - 120)) <= 1, "the case's last 6 min"
    move_clock(hub, 10)  # the case has lasted 12 minutes, longer than usual
    assert abs((estimate(k, "GA_SFZHL") or 0) - (DEFAULT / 3 + DEFAULT)) <= 1, \
        "a third of a case more, then the ticket taken 10 minutes ago"


def test_a_priority_ticket_waits_only_for_the_case_in_hand(hub: Hub, make_link: LinkFactory,
                                                           tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 6)
    window.open()
    for _ in range(3):
        k.take_ticket("GA_SFZHL")
    assert isinstance(window.call_next(), TicketCalled)  # one served, two waiting
    guide = make_link(DeviceClass.GUIDE, "guide-desk")
    elder = guide.send(IssuePriorityTicket(request_id=uuid4(), service="GA_SFZHL",
                                           group="elderly")).wait(5)
    assert isinstance(elder, TicketIssued)
    assert elder.est_wait_s is not None and abs(elder.est_wait_s - DEFAULT) <= 1
    later = estimate(k, "GA_SFZHL")  # after the case in hand, the elder and the two
    assert later is not None and abs(later - 4 * DEFAULT) <= 1


def test_a_ticket_sent_on_waits_only_for_its_window(hub: Hub, make_link: LinkFactory,
                                                    tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    front, issue = caller(make_link, 7), caller(make_link, 16)  # 不动产登记, 统一出件
    front.open()
    issue.open()
    k.take_ticket("BDC_ZYDJ")
    assert isinstance(front.call_next(), TicketCalled)
    assert isinstance(front.transfer(to_window=16), TicketTransferred)  # to collect the result
    assert estimate(k, "BDC_ZYDJ") == 0, "window 7 is free: the one sent on is not ahead there"
    # 一件事 (开办餐馆) is served only by window 16 of the open ones: it waits for the result
    state = queue_screen(make_link)("BDC_ZYDJ", 2)  # the one sent on and the newcomer
    assert of(state, "YJS_KBCG").est_wait_s == DEFAULT
