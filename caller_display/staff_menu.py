"""The staff keypad menu: the choices the five window buttons make without a touch screen.

Pure logic, no Kivy, no pins: StaffPanel turns presses into `next`, `prev`, `confirm` and
`back`, runs the `Choice` a confirm returns, and hands each `MenuView` to the window screen.
A menu is a list of entries: a choice to run, a submenu (…), 取消, or, in a toggle list
(materials of a 补正, departments of a 联办件), entries that 办结 ticks and a last entry
that confirms the ticked ones. Not thread-safe: StaffPanel calls it under its lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from protocol.messages import CaseOutcome, CatalogueState, ServiceInfo

LIST_HINT = "叫号▼ 重呼▲ 办结=确定 暂停=返回"
TOGGLE_HINT = "叫号▼ 重呼▲ 办结=勾选 暂停=返回"

FINISH_TITLE = "办结方式"
PAUSE_TITLE = "暂停/暂离"
REFUSAL_REASONS = ("不符合受理条件", "不属于本中心受理范围", "申请人撤回申请", "材料不符合法定形式")
PAUSE_REASONS = ("会议", "系统故障", "业务培训")  # the window screen shows 暂停服务（会议）
CANCEL = "取消"
SIGN_OUT = "下班签退（关闭窗口）"

NO_CATALOGUE = "尚未收到事项目录，请稍后再试"
UNKNOWN_ITEM = "未找到本事项的材料清单"
NOTHING_TO_TRANSFER = "没有可转办的事项"
NO_OTHER_DEPARTMENT = "没有可联办的部门"
NO_MATERIAL_CHECKED = "请先勾选所缺材料"
NO_DEPARTMENT_CHECKED = "请先勾选联办部门"


@dataclass(frozen=True)
class MenuView:
    """What the window screen draws: the title, the entries, the one selected (the screen
    scrolls to it), the ticked ones of a toggle list, and the key legend."""

    title: str
    items: tuple[str, ...]
    selected: int
    checked: frozenset[int]
    hint: str


@dataclass(frozen=True)
class FinishChoice:
    """Finish the case with this outcome (五件制) and the paperwork the hub asks for it."""

    outcome: CaseOutcome
    reason: str | None = None  # 退办件
    missing: tuple[str, ...] = ()  # 补正: from the item's materials
    departments: tuple[str, ...] = ()  # 联办件: department codes


@dataclass(frozen=True)
class TransferChoice:
    """Send the person served on to another item (转办)."""

    service: str
    name: str


@dataclass(frozen=True)
class PauseChoice:
    """暂停服务 with this reason."""

    reason: str


@dataclass(frozen=True)
class StepAwayChoice:
    """The A or B post leaves the window for a moment (暂离)."""

    post: Literal["A", "B"]


@dataclass(frozen=True)
class SignOutChoice:
    """下班签退: the window closes and the staff member on duty signs out."""


Choice = FinishChoice | TransferChoice | PauseChoice | StepAwayChoice | SignOutChoice


@dataclass(frozen=True)
class Refused:
    """A confirm that changed nothing, and why (Chinese, for the screen)."""

    text: str


@dataclass(frozen=True)
class Entry:
    """One line of a menu: confirming it runs `choice`, opens `submenu`, or else closes the
    menu (取消). In a toggle list, `value` is what a ticked entry stands for."""

    label: str
    choice: Choice | None = None
    submenu: Callable[[], Menu | Refused] | None = None
    value: str = ""


@dataclass
class Menu:
    """A list of entries; with `commit`, a toggle list whose last entry confirms the ticked
    ones (`commit` gets their values; `none_checked` is the refusal when there are none)."""

    title: str
    entries: list[Entry]
    commit: Callable[[tuple[str, ...]], Choice] | None = None
    none_checked: str = ""
    selected: int = 0
    checked: set[int] = field(default_factory=set)

    def view(self) -> MenuView:
        """The menu as the screen draws it; the legend says what 办结 does on the selection."""
        ticking = self.commit is not None and self.selected < len(self.entries) - 1
        return MenuView(self.title, tuple(e.label for e in self.entries), self.selected,
                        frozenset(self.checked), TOGGLE_HINT if ticking else LIST_HINT)


class StaffMenu:
    """A stack of menus, the top one shown; empty when closed."""

    def __init__(self) -> None:
        self._stack: list[Menu] = []

    @property
    def is_open(self) -> bool:
        return bool(self._stack)

    def view(self) -> MenuView | None:
        """The menu shown, or None when closed."""
        return self._stack[-1].view() if self._stack else None

    def open(self, menu: Menu) -> MenuView:
        """Show `menu`, replacing whatever was open."""
        self._stack = [menu]
        return menu.view()

    def close(self) -> None:
        self._stack.clear()

    def next(self) -> MenuView:
        """Select the next entry; after the last comes the first."""
        return self._move(1)

    def prev(self) -> MenuView:
        """Select the previous entry; before the first comes the last."""
        return self._move(-1)

    def back(self) -> MenuView | None:
        """Leave the submenu for the menu it came from (with its selection); None: closed."""
        self._stack.pop()
        return self.view()

    def confirm(self) -> MenuView | Choice | Refused | None:
        """办结 on the selected entry.

        A view: a submenu opened or an entry was (un)ticked. A choice: the caller runs it
        and closes the menu (it stays open if the caller cannot run it now). Refused: nothing
        changed. None: 取消, the menu is closed.
        """
        menu = self._stack[-1]
        entry = menu.entries[menu.selected]
        last = menu.selected == len(menu.entries) - 1
        if menu.commit is not None and not last:
            menu.checked ^= {menu.selected}
            return menu.view()
        if menu.commit is not None:
            values = tuple(e.value for i, e in enumerate(menu.entries) if i in menu.checked)
            return menu.commit(values) if values else Refused(menu.none_checked)
        if entry.choice is not None:
            return entry.choice
        if entry.submenu is not None:
            sub = entry.submenu()
            if isinstance(sub, Refused):
                return sub
            self._stack.append(sub)
            return sub.view()
        self.close()
        return None

    def _move(self, step: int) -> MenuView:
        menu = self._stack[-1]
        menu.selected = (menu.selected + step) % len(menu.entries)
        return menu.view()


def finish_menu(catalogue: CatalogueState | None, service: str | None) -> Menu:
    """办结方式 for a case of item `service`: the five outcomes (五件制), 转办, 取消."""
    item = _item(catalogue, service)

    def materials() -> Menu | Refused:
        if catalogue is None:
            return Refused(NO_CATALOGUE)
        if item is None or not item.materials:
            return Refused(UNKNOWN_ITEM)
        return Menu("补正：勾选所缺材料",
                    [Entry(m, value=m) for m in item.materials] + [Entry("确认补正并打印告知单")],
                    commit=lambda missing: FinishChoice("incomplete", missing=missing),
                    none_checked=NO_MATERIAL_CHECKED)

    def departments() -> Menu | Refused:
        if catalogue is None:
            return Refused(NO_CATALOGUE)
        others = [d for d in catalogue.departments if item is None or d.code != item.department]
        if not others:
            return Refused(NO_OTHER_DEPARTMENT)
        return Menu("联办件：勾选联办部门",
                    [Entry(d.name, value=d.code) for d in others] + [Entry("确认联办")],
                    commit=lambda codes: FinishChoice("joint", departments=codes),
                    none_checked=NO_DEPARTMENT_CHECKED)

    def refusal() -> Menu:
        return Menu("退办件：退办原因",
                    [Entry(r, FinishChoice("refused", reason=r)) for r in REFUSAL_REASONS])

    def transfer() -> Menu | Refused:
        if catalogue is None:
            return Refused(NO_CATALOGUE)
        targets = transfer_targets(catalogue, service)
        if not targets:
            return Refused(NOTHING_TO_TRANSFER)
        return Menu("转办到",
                    [Entry(label, TransferChoice(s.code, s.name)) for label, s in targets])

    return Menu(FINISH_TITLE, [
        Entry("即办件", FinishChoice("on_the_spot")),
        Entry("承诺件", FinishChoice("promised")),
        Entry("联办件…", submenu=departments),
        Entry("上报件", FinishChoice("referred")),
        Entry("退办件…", submenu=refusal),
        Entry("补正（一次性告知）…", submenu=materials),
        Entry("转办…", submenu=transfer),
        Entry(CANCEL),
    ])


def pause_menu(reasons: Sequence[str] = PAUSE_REASONS) -> Menu:
    """暂停/暂离: 暂停服务 with one of the hall's reasons, the A or B post steps away, or
    the staff member signs out at the end of the day."""
    return Menu(PAUSE_TITLE, [Entry(f"暂停服务（{r}）", PauseChoice(r)) for r in reasons] + [
        Entry("A岗暂离", StepAwayChoice("A")),
        Entry("B岗暂离", StepAwayChoice("B")),
        Entry(SIGN_OUT, SignOutChoice()),
        Entry(CANCEL),
    ])


def transfer_targets(catalogue: CatalogueState,
                     service: str | None) -> list[tuple[str, ServiceInfo]]:
    """The items a case can go on to, labelled "部门 · 事项": every item but `service`,
    department by department in the catalogue's order (unknown departments last)."""
    order = {d.code: i for i, d in enumerate(catalogue.departments)}
    names = {d.code: d.name for d in catalogue.departments}
    others = [s for s in catalogue.services if s.code != service]
    others.sort(key=lambda s: order.get(s.department, len(order)))  # stable: catalogue order
    return [(f"{names.get(s.department, s.department)} · {s.name}", s) for s in others]


def _item(catalogue: CatalogueState | None, service: str | None) -> ServiceInfo | None:
    if catalogue is None or service is None:
        return None
    return next((s for s in catalogue.services if s.code == service), None)
