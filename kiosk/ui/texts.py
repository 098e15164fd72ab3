"""What the citizen reads, worded once. Pure functions: no Kivy, so tests read them alone."""

from __future__ import annotations

import math

from protocol.messages import Issuing, ServiceInfo, ServiceQueue, TicketIssued

HELP = "需要帮助？请到导办台"
BACK = "返回"
HOME = "首页"
HUB_OFFLINE = "系统连接中断，正在重连"
STORAGE_FULL = "暂停取号：系统存储空间不足，请到导办台取号"  # the hub's disk is full
ALERTS = (HUB_OFFLINE, STORAGE_FULL)  # banners in the alert colour
NO_PRINTER = "打印机暂停使用，号票将显示在屏幕上"
PRINTING = "正在出票…"
RECONNECTING = "系统正在重新连接，请稍候…"
RECONNECTING_NOTE = "您的取号请求已保存，连接恢复后会自动出票"
CANCEL = "取消取号"
TAKE = "取号"
TAKE_ON_SCREEN = "取号（号码显示在屏幕上）"
NOTED = "我已记下号码"
NOT_WANTED = "不要这个号了"
TO_PHONE = "请用手机扫描右侧二维码，号票存到手机上，可随时查看排队进度"  # paperless
SAVED_ON_PHONE = "已存到手机"
PRINT_INSTEAD = "打印纸质号票"
DONE = "完成，返回首页"
LOADING = "正在读取办事指南，请稍候…"
APPOINTMENT = "我有预约"
ELDER_ON = "长辈模式"
ELDER_NOTE = "字更大 更简单"
ELDER_OFF = "返回标准模式"
BUNDLES = "一件事一次办"
SCAN_HINT = "请将预约二维码对准摄像头"
CAMERA_AREA = "摄像头画面"
NO_CODE = "没有二维码？请到导办台，工作人员帮您签到"
HELP_DESK = "请到导办台"
HELP_DESK_NOTE = "工作人员会帮您选择事项、取号和办理"
PRIORITY_NOTE = "老年人、残疾人、孕妇、军人军属等可在导办台领取优先号（绿色通道）"

# When the hub sent no notice of its own; the hub's notice also says when it opens again.
NOT_ISSUING: dict[Issuing, str] = {
    "open": "",
    "outside_hours": "现在不在取号时间",
    "cap_reached": "今日号已取完",
    "closed": "该事项暂停取号",
}


def banners(hub_online: bool, hub_problem: str | None, printing_offered: bool) -> list[str]:
    """The warnings above every page: the hub away or unable to issue, no printer."""
    found = []
    if not hub_online:
        found.append(HUB_OFFLINE)
    elif hub_problem == "storage_full":
        found.append(STORAGE_FULL)
    if not printing_offered:
        found.append(NO_PRINTER)
    return found


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up: promising less than the estimate helps nobody."""
    return max(1, math.ceil(seconds / 60))


def wait_text(queue: ServiceQueue | None) -> str:
    """The wait for an item now: 前方等待N人，预计M分钟."""
    if queue is None:
        return "正在获取排队信息…"
    if queue.open_windows == 0 or queue.est_wait_s is None:
        return f"前方等待{queue.waiting}人，暂无开放窗口"
    return f"前方等待{queue.waiting}人，预计{minutes(queue.est_wait_s)}分钟"


def short_wait(queue: ServiceQueue | None) -> str:
    """The one line under an item's tile."""
    if queue is None:
        return ""
    if queue.issuing != "open":
        return NOT_ISSUING[queue.issuing]
    return f"等待{queue.waiting}人"


def not_issuing_text(queue: ServiceQueue | None) -> str:
    """Why no ticket can be taken now ("" when it can)."""
    if queue is None or queue.issuing == "open":
        return ""
    return queue.notice or NOT_ISSUING[queue.issuing]


def issued_text(issued: TicketIssued) -> str:
    """您已领取A005号，前方等待3人."""
    return f"您已领取{issued.ticket.number}号，前方等待{issued.waiting_before}人"


def issued_wait(issued: TicketIssued) -> str:
    """The estimate printed under the number."""
    if issued.est_wait_s is None:
        return "暂无开放窗口，请留意叫号"
    return f"预计等待{minutes(issued.est_wait_s)}分钟，请留意叫号"


def time_limits(service: ServiceInfo) -> str:
    """法定/承诺办结时限 in working days, or 即办件."""
    if service.promised_days == 0:
        return "即办件：材料齐全当场办结"
    return (f"法定{service.legal_days}个工作日，"
            f"承诺{service.promised_days}个工作日办结")


def numbered(lines: list[str]) -> str:
    """1、… 2、… one per line. No space after the number: Kivy wraps only at spaces (and
    splits a longer run anywhere), so "1. 很长的一句" would leave "1." alone on its line."""
    return "\n".join(f"{i}、{line}" for i, line in enumerate(lines, 1))
