"""The staff keypad menu: its navigation as pure logic, then held buttons on gpiozero
MockFactory pins driving the real CallerCore against the real broker and hub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from sqlalchemy import func, select

from caller_display.adapters.buttons import ButtonPins, GpioPanel, PanelSettings
from caller_display.caller_core import CallerCore
from caller_display.staff_menu import (
    FINISH_TITLE,
    LIST_HINT,
    NO_CATALOGUE,
    NO_MATERIAL_CHECKED,
    PAUSE_TITLE,
    TOGGLE_HINT,
    FinishChoice,
    MenuView,
    PauseChoice,
    Refused,
    StaffMenu,
    StepAwayChoice,
    TransferChoice,
    finish_menu,
    pause_menu,
)
from caller_display.staff_panel import (
    MENU_CLOSED,
    NOBODY_SERVED,
    TICKET_CHANGED,
    ButtonName,
    Feedback,
    StaffPanel,
)
from hallsim.broker import Broker
from hub.app import Hub
from hub.db.schema import cases, requests, tickets, windows
from kiosk.core import KioskCore
from protocol.link import DeviceLink
from protocol.messages import CatalogueState, DepartmentInfo, ServiceInfo
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.helpers import Seen, eventually

# ---------------------------------------------------------------- the menu as logic


def item(code: str, name: str, department: str, *materials: str) -> ServiceInfo:
    return ServiceInfo(code=code, name=name, kind="item", department=department,
                       prefix=code[0], conditions=[], materials=list(materials),
                       legal_days=20, promised_days=5, fee="不收费")


CATALOGUE = CatalogueState(
    hall_name="示范县政务服务中心",
    departments=[DepartmentInfo(code="GA", name="县公安局"),
                 DepartmentInfo(code="MZ", name="县民政局"),
                 DepartmentInfo(code="SW", name="县税务局")],
    services=[item("GA_HJQY", "户口迁移", "GA", "居民身份证原件", "居民户口簿原件", "住所证明"),
              item("MZ_DB", "最低生活保障申请", "MZ", "申请书"),
              item("GA_JZZ", "居住证申领", "GA", "照片"),
              item("SW_FPLY", "发票领用", "SW", "营业执照")])


def to(menu: StaffMenu, label: str) -> MenuView:
    """Select the entry called `label` with 叫号 presses."""
    view = menu.view()
    assert view is not None and label in view.items, f"{label} not in {view}"
    while view.items[view.selected] != label:
        view = menu.next()
    return view


def test_next_and_previous_wrap_around() -> None:
    menu = StaffMenu()
    view = menu.open(pause_menu())
    assert (view.title, view.selected, view.hint) == (PAUSE_TITLE, 0, LIST_HINT)
    assert view.items == ("暂停服务（会议）", "暂停服务（系统故障）", "暂停服务（业务培训）",
                          "A岗暂离", "B岗暂离", "下班签退（关闭窗口）", "取消")
    assert menu.prev().selected == 6
    assert menu.next().selected == 0
    for _ in range(7):
        view = menu.next()
    assert view.selected == 0


def test_back_leaves_a_submenu_with_the_parent_as_it_was_then_closes() -> None:
    menu = StaffMenu()
    menu.open(finish_menu(CATALOGUE, "GA_HJQY"))
    to(menu, "退办件…")
    sub = menu.confirm()
    assert isinstance(sub, MenuView) and sub.title == "退办件：退办原因"
    menu.next()
    parent = menu.back()
    assert parent is not None and parent.title == FINISH_TITLE
    assert parent.items[parent.selected] == "退办件…"
    assert menu.back() is None and not menu.is_open and menu.view() is None


def test_materials_toggle_and_confirm_only_with_one_ticked() -> None:
    menu = StaffMenu()
    menu.open(finish_menu(CATALOGUE, "GA_HJQY"))
    to(menu, "补正（一次性告知）…")
    sub = menu.confirm()
    assert isinstance(sub, MenuView) and sub.hint == TOGGLE_HINT
    assert sub.items == ("居民身份证原件", "居民户口簿原件", "住所证明", "确认补正并打印告知单")
    assert menu.prev().hint == LIST_HINT, "on the last entry 办结 confirms"
    assert menu.confirm() == Refused(NO_MATERIAL_CHECKED)
    for label in ("居民户口簿原件", "住所证明", "居民身份证原件", "居民身份证原件"):
        to(menu, label)
        view = menu.confirm()  # ticks, or unticks a ticked one
    assert isinstance(view, MenuView) and view.checked == {1, 2}
    to(menu, "确认补正并打印告知单")
    assert menu.confirm() == FinishChoice("incomplete", missing=("居民户口簿原件", "住所证明"))
    assert menu.is_open, "the panel closes it once the action starts"


def test_joint_case_ticks_the_other_departments() -> None:
    menu = StaffMenu()
    menu.open(finish_menu(CATALOGUE, "GA_HJQY"))
    to(menu, "联办件…")
    sub = menu.confirm()
    assert isinstance(sub, MenuView) and sub.items == ("县民政局", "县税务局", "确认联办")
    menu.confirm()
    menu.next()
    menu.confirm()
    menu.next()
    assert menu.confirm() == FinishChoice("joint", departments=("MZ", "SW"))


def test_refusal_reason_and_the_plain_outcomes() -> None:
    menu = StaffMenu()
    menu.open(finish_menu(CATALOGUE, "GA_HJQY"))
    assert menu.confirm() == FinishChoice("on_the_spot")
    to(menu, "上报件")
    assert menu.confirm() == FinishChoice("referred")
    to(menu, "退办件…")
    menu.confirm()
    to(menu, "申请人撤回申请")
    assert menu.confirm() == FinishChoice("refused", reason="申请人撤回申请")


def test_transfer_lists_the_other_items_by_department() -> None:
    menu = StaffMenu()
    menu.open(finish_menu(CATALOGUE, "GA_HJQY"))
    to(menu, "转办…")
    sub = menu.confirm()
    assert isinstance(sub, MenuView) and sub.title == "转办到"
    assert sub.items == ("县公安局 · 居住证申领", "县民政局 · 最低生活保障申请",
                         "县税务局 · 发票领用")
    to(menu, "县税务局 · 发票领用")
    assert menu.confirm() == TransferChoice("SW_FPLY", "发票领用")


def test_cancel_closes_and_a_missing_catalogue_refuses_the_lists() -> None:
    menu = StaffMenu()
    menu.open(finish_menu(None, None))
    for label in ("补正（一次性告知）…", "转办…", "联办件…"):
        to(menu, label)
        assert menu.confirm() == Refused(NO_CATALOGUE)
    to(menu, "承诺件")
    assert menu.confirm() == FinishChoice("promised")
    to(menu, "取消")
    assert menu.confirm() is None and not menu.is_open


def test_pause_menu_choices() -> None:
    menu = StaffMenu()
    menu.open(pause_menu(("会议",)))
    assert menu.confirm() == PauseChoice("会议")
    to(menu, "B岗暂离")
    assert menu.confirm() == StepAwayChoice("B")


# ---------------------------------------------------------------- buttons, broker and hub

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移 at 5号窗口, which also serves 出生登记
PINS = ButtonPins()
HOLD_S = 0.3  # the hall's 1.5 s, shortened for the tests


@dataclass
class Window:
    hub: Hub
    core: CallerCore
    kiosk: KioskCore
    panel: StaffPanel
    gpio: GpioPanel
    factory: MockFactory
    feedback: Seen[Feedback]
    views: Seen[MenuView | None]

    def pin(self, button: ButtonName) -> Any:
        return self.factory.pin(getattr(PINS, button))

    def press(self, button: ButtonName) -> None:
        """Press and release a pull-up button."""
        self.pin(button).drive_low()
        self.pin(button).drive_high()

    def hold(self, button: ButtonName, title: str) -> MenuView:
        """Hold a button until the menu `title` shows, then let go."""
        seen = len(self.views.items)
        self.pin(button).drive_low()
        view = self.views.wait(lambda v: v is not None and v.title == title, seen)
        self.pin(button).drive_high()
        assert view is not None
        return view

    def choose(self, label: str) -> MenuView | None:
        """Walk to `label` with 叫号 and press 办结; the view after it."""
        view = self.panel.menu_view
        assert view is not None and label in view.items, f"{label} not in {view}"
        while view.items[view.selected] != label:
            self.press("call_next")
            view = self.panel.menu_view
            assert view is not None
        seen = len(self.views.items)
        self.press("finish")
        return self.views.wait(lambda v: True, seen)

    def result(self, after: int) -> Feedback:
        """The result of the action started after feedback #`after`."""
        return self.feedback.wait(lambda fb: fb.signal not in ("hint", "sending", "busy"),
                                  after)

    def requests(self, action: str) -> int:
        with self.hub.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(requests)
                                   .where(requests.c.action == action)) or 0)

    def row(self, table: Any, *where: Any) -> Any:
        with self.hub.engine.connect() as conn:
            return conn.execute(select(table).where(*where)).one()

    def serve(self) -> str:
        """Take a ticket at the kiosk and call it here; its number."""
        issued = self.kiosk.take_ticket(SERVICE).issued
        assert issued is not None
        number = issued.ticket.number
        after = len(self.feedback.items)
        self.press("call_next")
        assert self.result(after).text == f"已叫号 {number}"
        return number



@pytest.fixture
def core(broker: Broker, hall_id: str, tmp_path: Path) -> Iterator[CallerCore]:
    """The window's caller, wired before its link starts as the window program does: the
    retained states (the catalogue among them) come once, at the subscription."""
    settings = DeviceSettings(hall_id=hall_id, device_id=f"caller-{WINDOW}",
                              mqtt=broker.settings_for(DeviceClass.CALLER),
                              data_dir=tmp_path / "devices")
    link = DeviceLink(settings, DeviceClass.CALLER)
    core = CallerCore(link, WINDOW)
    link.start()
    assert link.wait_connected(10), "the caller did not reach the broker"
    yield core
    link.stop()


@pytest.fixture
def window(hub: Hub, core: CallerCore, make_link: LinkFactory, tmp_path: Path,
           mock_pins: MockFactory) -> Iterator[Window]:
    core.open()
    eventually(lambda: core.catalogue is not None, what="the retained catalogue")
    feedback, views = Seen[Feedback](), Seen[MenuView | None]()
    panel = StaffPanel(core, feedback, on_menu=views, debounce_s=0.0)  # faster than a hand
    gpio = GpioPanel(panel, PanelSettings(hold_s=HOLD_S), pin_factory=mock_pins)
    yield Window(hub, core, kiosk(make_link, tmp_path, hub), panel, gpio, mock_pins,
                 feedback, views)
    gpio.close()


def test_hold_finish_for_a_notice_of_two_missing_materials(window: Window) -> None:
    number = window.serve()
    view = window.hold("finish", FINISH_TITLE)
    assert view.items == ("即办件", "承诺件", "联办件…", "上报件", "退办件…", "补正（一次性告知）…",
                          "转办…", "取消")
    assert window.panel.wait_idle(5) and window.requests("finish_case") == 0, \
        "letting go of the hold finishes nothing"
    materials = window.choose("补正（一次性告知）…")
    assert materials is not None and materials.hint == TOGGLE_HINT
    missing = [materials.items[1], materials.items[3]]
    for label in missing:
        window.choose(label)
    ticked = window.panel.menu_view
    assert ticked is not None and ticked.checked == {1, 3}
    assert window.feedback.items[-1] == Feedback("finish", "hint", f"已勾选 {missing[1]}")
    after = len(window.feedback.items)
    assert window.choose("确认补正并打印告知单") is None, "the menu closes as the finish leaves"
    done = window.result(after)
    assert done.signal == "ok" and done.text.startswith(f"已办结 {number}（补正）")
    ticket = window.row(tickets, tickets.c.number == number)
    case = window.row(cases, cases.c.ticket_id == ticket.id)
    assert (ticket.status, case.outcome, case.missing) == ("finished", "incomplete", missing)
    hints = [fb for fb in window.feedback.items if fb.signal == "hint"]
    assert len(hints) == len([v for v in window.views.items if v is not None]), \
        "every menu press lit the LED"


def test_hold_finish_to_transfer_to_another_item(window: Window) -> None:
    number = window.serve()
    window.hold("finish", FINISH_TITLE)
    targets = window.choose("转办…")
    assert targets is not None and targets.title == "转办到"
    assert not [t for t in targets.items if t.endswith("户口迁移")], "not to the item itself"
    after = len(window.feedback.items)
    assert window.choose("县公安局 · 出生登记（新生儿落户）") is None
    assert window.feedback.wait(lambda fb: fb.signal == "sending", after).text == "正在转办…"
    assert window.result(after) == Feedback(
        "finish", "ok", f"已转办 {number}（出生登记（新生儿落户））")
    ticket = window.row(tickets, tickets.c.number == number)
    assert (ticket.status, ticket.service_code) == ("waiting", "GA_CSDJ")
    assert window.core.state is not None and window.core.state.status == "open"


def test_hold_pause_to_step_away_as_the_a_post(window: Window) -> None:
    window.hold("pause", PAUSE_TITLE)
    assert window.panel.wait_idle(5) and window.requests("pause_window") == 0
    after = len(window.feedback.items)
    window.choose("A岗暂离")
    assert window.result(after) == Feedback("pause", "ok", "A岗已暂离")
    state = window.core.state
    assert state is not None and (state.status, state.away_post) == ("away", "A")
    assert window.row(windows, windows.c.number == WINDOW).status == "away"
    after = len(window.feedback.items)
    window.press("pause")  # a short press: back at the window
    assert window.result(after).text == "已恢复服务"


def test_in_the_menu_no_show_only_shows_the_keys_and_pause_goes_back(window: Window) -> None:
    number = window.serve()
    window.hold("finish", FINISH_TITLE)
    window.press("no_show")
    assert window.feedback.items[-1] == Feedback("no_show", "hint", LIST_HINT)
    no_show = window.gpio.buttons["no_show"]
    window.pin("no_show").drive_low()
    eventually(lambda: no_show.is_held, what="a hold of 过号")
    window.pin("no_show").drive_high()
    window.choose("退办件…")
    seen = len(window.views.items)
    window.press("pause")
    assert window.views.wait(lambda v: True, seen) == window.panel.menu_view
    window.press("pause")
    assert window.views.items[-1] is None
    assert window.feedback.items[-1] == Feedback("pause", "hint", MENU_CLOSED)
    assert window.panel.wait_idle(5)
    assert (window.requests("no_show"), window.requests("pause_window")) == (0, 0)
    after = len(window.feedback.items)
    window.press("finish")  # the menu is gone: a short press is 即办件 again
    assert window.result(after).text == f"已办结 {number}（即办件）"


def test_the_menu_closes_when_idle_or_the_ticket_changes(window: Window) -> None:
    window.panel.menu_idle_s = 0.3
    opened = time.monotonic()
    window.hold("pause", PAUSE_TITLE)
    window.views.wait(lambda v: v is None)
    assert time.monotonic() - opened >= 0.3
    window.panel.menu_idle_s = 20
    window.serve()
    window.hold("finish", FINISH_TITLE)
    after = len(window.feedback.items)
    window.core.finish()  # e.g. from the window screen's own keys
    assert window.feedback.wait(lambda fb: fb.text == TICKET_CHANGED, after).signal == "hint"
    assert window.views.items[-1] is None and window.panel.menu_view is None


def test_no_menu_to_finish_without_a_case(window: Window) -> None:
    after = len(window.feedback.items)
    window.pin("finish").drive_low()
    refused = window.feedback.wait(lambda fb: fb.signal == "refused", after)
    window.pin("finish").drive_high()
    assert refused == Feedback("finish", "refused", NOBODY_SERVED)
    assert window.panel.menu_view is None and not window.views.items


def test_bounce_on_finish_counts_once_and_a_bouncing_hold_opens_the_menu(
        window: Window) -> None:
    window.panel.debounce_s = 0.05  # the hall's setting: edges within 50 ms are bounce
    first = window.serve()
    pin = window.pin("finish")
    after = len(window.feedback.items)
    for _ in range(3):  # a bouncing contact: edges microseconds apart
        pin.drive_low()
        pin.drive_high()
    assert window.result(after).text == f"已办结 {first}（即办件）"
    assert window.panel.wait_idle(5) and window.requests("finish_case") == 1
    time.sleep(0.06)  # not a wait: a hand's next press comes later than the bounce time
    window.serve()
    pin.drive_low()
    pin.drive_high()  # bounce as the contact closes, then held
    pin.drive_low()
    view = window.views.wait(lambda v: v is not None)
    assert view is not None and view.title == FINISH_TITLE
    pin.drive_high()
    assert window.panel.wait_idle(5) and window.requests("finish_case") == 1
