"""Error codes shared by hub and devices: English code for logs, Chinese text for screens."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every refusal the hub can answer with; the value is the code on the wire."""

    BAD_JSON = "BAD_JSON"
    INVALID = "INVALID"
    TOO_LARGE = "TOO_LARGE"
    UNKNOWN_ACTION = "UNKNOWN_ACTION"
    WRONG_HALL = "WRONG_HALL"
    UNKNOWN_SERVICE = "UNKNOWN_SERVICE"
    SERVICE_CLOSED = "SERVICE_CLOSED"
    UNKNOWN_WINDOW = "UNKNOWN_WINDOW"
    WINDOW_CLOSED = "WINDOW_CLOSED"
    WINDOW_BUSY = "WINDOW_BUSY"
    QUEUE_EMPTY = "QUEUE_EMPTY"
    NOT_SERVING = "NOT_SERVING"
    WINDOW_PAUSED = "WINDOW_PAUSED"
    RECALL_LIMIT = "RECALL_LIMIT"
    RECALL_FIRST = "RECALL_FIRST"
    UNKNOWN_NUMBER = "UNKNOWN_NUMBER"
    NOT_NO_SHOW = "NOT_NO_SHOW"
    LATE_RETURN_EXPIRED = "LATE_RETURN_EXPIRED"
    NOT_AT_THIS_WINDOW = "NOT_AT_THIS_WINDOW"
    REASON_REQUIRED = "REASON_REQUIRED"
    MISSING_REQUIRED = "MISSING_REQUIRED"
    UNKNOWN_MATERIAL = "UNKNOWN_MATERIAL"
    UNKNOWN_DEPARTMENT = "UNKNOWN_DEPARTMENT"
    TARGET_CLOSED = "TARGET_CLOSED"
    NO_OPEN_WINDOW = "NO_OPEN_WINDOW"
    BAD_SIGN_IN = "BAD_SIGN_IN"
    SIGN_IN_LOCKED = "SIGN_IN_LOCKED"
    NOT_POSTED = "NOT_POSTED"
    OUTSIDE_HOURS = "OUTSIDE_HOURS"
    CAP_REACHED = "CAP_REACHED"
    UNKNOWN_TICKET = "UNKNOWN_TICKET"
    TICKET_VOID = "TICKET_VOID"
    TICKET_IN_HAND = "TICKET_IN_HAND"
    UNKNOWN_CASE = "UNKNOWN_CASE"
    REVIEW_EXISTS = "REVIEW_EXISTS"
    REVIEW_REASON = "REVIEW_REASON"
    REVIEW_TOO_LATE = "REVIEW_TOO_LATE"
    LAST_WINDOW = "LAST_WINDOW"
    BAD_DATE = "BAD_DATE"
    NOT_APPOINTMENT = "NOT_APPOINTMENT"
    APPOINTMENT_WRONG_HALL = "APPOINTMENT_WRONG_HALL"
    APPOINTMENT_BAD_SIGNATURE = "APPOINTMENT_BAD_SIGNATURE"
    APPOINTMENT_WRONG_DAY = "APPOINTMENT_WRONG_DAY"
    APPOINTMENT_TOO_EARLY = "APPOINTMENT_TOO_EARLY"
    APPOINTMENT_TOO_LATE = "APPOINTMENT_TOO_LATE"
    APPOINTMENT_USED = "APPOINTMENT_USED"
    APPOINTMENT_CANCELLED = "APPOINTMENT_CANCELLED"
    APPOINTMENT_NOT_CONFIRMED = "APPOINTMENT_NOT_CONFIRMED"
    UNKNOWN_APPOINTMENT = "UNKNOWN_APPOINTMENT"
    BAD_ID_NUMBER = "BAD_ID_NUMBER"
    BAD_PHONE = "BAD_PHONE"
    BAD_NAME = "BAD_NAME"
    BLACKLISTED = "BLACKLISTED"
    SLOT_FULL = "SLOT_FULL"
    SLOT_CLOSED = "SLOT_CLOSED"
    ONE_BOOKING_A_DAY = "ONE_BOOKING_A_DAY"
    CANCEL_TOO_LATE = "CANCEL_TOO_LATE"
    NOT_BOOKABLE = "NOT_BOOKABLE"
    HUB_ERROR = "HUB_ERROR"
    STORAGE_FULL = "STORAGE_FULL"


# The text a citizen or a member of staff reads on a screen.
ZH: dict[ErrorCode, str] = {
    ErrorCode.BAD_JSON: "请求格式错误，请联系工作人员",
    ErrorCode.INVALID: "请求内容不完整或有误，请联系工作人员",
    ErrorCode.TOO_LARGE: "请求内容过长，已拒绝",
    ErrorCode.UNKNOWN_ACTION: "不支持的操作",
    ErrorCode.WRONG_HALL: "设备不属于本大厅，请联系管理员",
    ErrorCode.UNKNOWN_SERVICE: "没有该服务事项，请重新选择",
    ErrorCode.SERVICE_CLOSED: "该事项暂停取号，请到导办台咨询",
    ErrorCode.UNKNOWN_WINDOW: "窗口未登记，请联系管理员",
    ErrorCode.WINDOW_CLOSED: "窗口尚未开放，请先开窗",
    ErrorCode.WINDOW_BUSY: "请先结束当前办件，再叫下一位",
    ErrorCode.QUEUE_EMPTY: "当前没有等候的群众",
    ErrorCode.NOT_SERVING: "该号码不在本窗口办理中",
    ErrorCode.WINDOW_PAUSED: "窗口暂停服务中，请先恢复服务",
    ErrorCode.RECALL_LIMIT: "重呼次数已满，请标记过号",
    ErrorCode.RECALL_FIRST: "请先重呼，再标记过号",
    ErrorCode.UNKNOWN_NUMBER: "今天没有这个号码",
    ErrorCode.NOT_NO_SHOW: "该号码没有过号，不能补叫",
    ErrorCode.LATE_RETURN_EXPIRED: "已超过过号补叫时限，请重新取号",
    ErrorCode.NOT_AT_THIS_WINDOW: "该号码的事项不在本窗口办理",
    ErrorCode.REASON_REQUIRED: "退办须写明理由",
    ErrorCode.MISSING_REQUIRED: "补正须列明所缺材料",
    ErrorCode.UNKNOWN_MATERIAL: "所列材料不在该事项的材料清单中",
    ErrorCode.UNKNOWN_DEPARTMENT: "联办部门须从部门清单中选择",
    ErrorCode.TARGET_CLOSED: "转往的窗口未开放，请选择其他窗口",
    ErrorCode.NO_OPEN_WINDOW: "该事项当前没有开放的窗口，请选择其他事项或窗口",
    ErrorCode.BAD_SIGN_IN: "工号或密码错误",
    ErrorCode.SIGN_IN_LOCKED: "密码错误次数过多，请5分钟后再试",
    ErrorCode.NOT_POSTED: "您不在本窗口的A/B岗上，请联系管理员调整",
    ErrorCode.OUTSIDE_HOURS: "现在不在取号时间",
    ErrorCode.CAP_REACHED: "今日该事项号已发完，可预约其他日期或到导办台咨询",
    ErrorCode.UNKNOWN_TICKET: "没有找到这张号票，请重新取号",
    ErrorCode.TICKET_VOID: "该号已作废，请重新取号",
    ErrorCode.TICKET_IN_HAND: "该号已在排队中，不能作废",
    ErrorCode.UNKNOWN_CASE: "没有找到这次办件，无法评价",
    ErrorCode.REVIEW_EXISTS: "这次办件已经评价过了，感谢您的参与",
    ErrorCode.REVIEW_REASON: "请选择不满意的原因",
    ErrorCode.REVIEW_TOO_LATE: "已超过补充评价期限（办结后5个工作日内）",
    ErrorCode.LAST_WINDOW: "该事项将没有任何窗口办理，请先安排其他窗口",
    ErrorCode.BAD_DATE: "日期格式有误，请写成2027-01-01",
    # appointment check-in at the kiosk's camera; the hub gives the dates and times it knows
    ErrorCode.NOT_APPOINTMENT: "这不是预约二维码，请出示预约成功后的二维码",
    ErrorCode.APPOINTMENT_WRONG_HALL: "该预约不在本服务大厅办理，请到预约的服务大厅取号",
    ErrorCode.APPOINTMENT_BAD_SIGNATURE: "预约二维码无效，请到导办台咨询",
    ErrorCode.APPOINTMENT_WRONG_DAY: "今天不是您预约的日期",
    ErrorCode.APPOINTMENT_TOO_EARLY: "还没到预约时段，请稍后再来取号",
    ErrorCode.APPOINTMENT_TOO_LATE: "预约时段已过，请现场取号或重新预约",
    ErrorCode.APPOINTMENT_USED: "该预约已取号",
    ErrorCode.APPOINTMENT_CANCELLED: "该预约已取消，请现场取号或重新预约",
    ErrorCode.APPOINTMENT_NOT_CONFIRMED: "该预约尚待工作人员确认，请留意短信通知",
    ErrorCode.UNKNOWN_APPOINTMENT: "没有找到该预约",
    ErrorCode.BAD_ID_NUMBER: "身份证号码有误，请核对后重新输入",
    ErrorCode.BAD_PHONE: "手机号码有误，请输入11位手机号码",
    ErrorCode.BAD_NAME: "请输入与身份证一致的姓名",
    ErrorCode.BLACKLISTED: "因多次预约未到，暂停预约服务；可随时现场取号办理",
    ErrorCode.SLOT_FULL: "该时段已约满，请选择其他时段",
    ErrorCode.SLOT_CLOSED: "该时段已不可预约，请选择其他时段",
    ErrorCode.ONE_BOOKING_A_DAY: "同一天只能预约一次，您当天已有预约",
    ErrorCode.CANCEL_TOO_LATE: "已超过可取消时间，无法取消",
    ErrorCode.NOT_BOOKABLE: "该事项暂不提供预约，请现场取号办理",
    ErrorCode.HUB_ERROR: "系统繁忙，请稍后再试",
    ErrorCode.STORAGE_FULL: "系统存储空间不足，请到导办台取号",  # what a kiosk shows
}
# STORAGE_FULL as staff read it (windows, guide desk, dashboard): nothing was done.
STORAGE_FULL_STAFF = "系统存储空间不足，本次操作未保存：请联系管理员清理服务器磁盘空间"


class UserError(Exception):
    """A refusal to show a person: `code` for logs and machines, `zh` for the screen."""

    def __init__(self, code: ErrorCode, detail: str = "", zh: str | None = None) -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.zh = zh or ZH[code]  # a fuller text when the hub knows more (e.g. next opening)
        self.detail = detail
