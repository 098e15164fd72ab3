"""Staff sign in at a window with staff number and PIN; the staff card follows; cases name them."""

from __future__ import annotations

from pathlib import Path

from hub.app import Hub
from protocol.messages import CaseFinished, ErrorReply, TicketCalled, WindowChanged
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk

# From the shipped catalogue: window 5's A post is S051, its B post S052; demo PIN 123456.


def test_sign_in_shows_the_staff_card_and_cases_name_the_staff(hub: Hub, make_link: LinkFactory,
                                                               tmp_path: Path) -> None:
    window = caller(make_link, 5)
    signed = window.sign_in("S051", "123456")
    assert isinstance(signed, WindowChanged) and signed.window.staff is not None
    card = signed.window.staff
    person = next(s for s in hub.catalogue.staff if s.number == "S051")
    assert (card.number, card.name, card.post, card.photo) == ("S051", person.name, "A",
                                                                 person.photo)
    assert card.unit == "县公安局" and card.title == person.title
    kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY")
    window.open()
    assert isinstance(window.call_next(), TicketCalled)
    done = window.finish()
    assert isinstance(done, CaseFinished) and done.case.staff_no == "S051"


def test_the_b_post_takes_over(hub: Hub, make_link: LinkFactory) -> None:
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.sign_out()
    b = window.sign_in("S052", "123456")
    assert isinstance(b, WindowChanged) and b.window.staff is not None
    assert (b.window.staff.number, b.window.staff.post) == ("S052", "B")


def test_wrong_pin_and_wrong_window_are_refused(hub: Hub, make_link: LinkFactory) -> None:
    window = caller(make_link, 5)
    wrong = window.sign_in("S051", "000000")
    assert isinstance(wrong, ErrorReply) and wrong.message == "工号或密码错误"
    nobody = window.sign_in("X999", "123456")
    assert isinstance(nobody, ErrorReply) and nobody.message == "工号或密码错误"
    elsewhere = window.sign_in("S071", "123456")  # 7号窗口's A post
    assert isinstance(elsewhere, ErrorReply) and elsewhere.code == "NOT_POSTED"
    assert window.state is None or window.state.staff is None


def test_five_wrong_pins_lock_the_staff_number(hub: Hub, make_link: LinkFactory) -> None:
    window = caller(make_link, 5)
    for _ in range(5):
        window.sign_in("S051", "999999")
    locked = window.sign_in("S051", "123456")
    assert isinstance(locked, ErrorReply) and locked.message == "密码错误次数过多，请5分钟后再试"
