"""设备管理: the devices the hall has, as its managers list them, by a name people use.

Until now the hub knew devices only from what they report (hub/state_feed.py): a kiosk
that never came up today was simply absent from the live hall. The registry says what
should be there: each device's class and id, a name (东门1号取号机), where it stands and a
note, with who added it and when. The live hall then shows a registered device that is
offline, or has not come up today, by its name (离线 / 未上线).

Decisions:

- **Owned by the managers, not seeded from the catalogue file.** The catalogue lists
  windows, not devices: a window's device (its screen, staff buttons and evaluator are one
  program and one MQTT client, class `caller`) has whatever id its Pi was given
  (HALLQ_CALLER_DEVICE_ID; `caller-5` is only the demo's convention), the kiosks and
  screens are not in the file at all. Registering `caller-N` for every window would list,
  in red every morning, devices a hall may not have or names differently, and teach
  managers to ignore red. The hall seeds the registry from what it really has instead: the
  devices that report are listed apart as 未登记设备 with a suggested name (1号取号机,
  5号窗口叫号器), registered one at a time or all at once (`suggested_name`).
- **A device id is registered once, whatever its class**: it is the device's MQTT client
  id, and the broker keeps one connection per client id.
- **Names are unique**: the live hall shows devices by name.
- **Removing a device that is online is warned, not refused** (hub/device_watch.py): the
  page asks again. An online device is usually in use, so a click on the wrong row must not
  drop it from the live hall's watch; but "online" is only the last status the broker kept,
  and after a broker restart a device that is gone may stay "online" for good, so a refusal
  would leave the manager no way out.

Issue 10 will derive per-device broker credentials from this registry (a password and ACL
entry for each registered device instead of one per device class); not built yet.

Every change writes an audit line with who, before and after. Refusals are UserError with
the reason in Chinese; nothing is changed then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hub import audit
from hub.db.schema import device_sightings, devices, windows
from hub.state_feed import CLASS_ZH, DeviceKey
from protocol.errors import ErrorCode, UserError
from protocol.topics import ID_PATTERN, DeviceClass

# The classes a hall registers (the hub is the server itself, not one of its devices).
REGISTRABLE: tuple[DeviceClass, ...] = (DeviceClass.KIOSK, DeviceClass.CALLER,
                                        DeviceClass.DISPLAY, DeviceClass.GUIDE)
# What each class is, for the form (the protocol's classes; the evaluator is the caller's).
CLASS_HINT_ZH = {"kiosk": "自助取号、预约签到", "caller": "窗口屏、叫号按键和评价器",
                 "display": "大厅综合屏、语音叫号", "guide": "导办台优先取号"}
DEVICE_ID = re.compile(ID_PATTERN)
NAME_MAX, LOCATION_MAX, NOTE_MAX = 50, 50, 200


@dataclass(frozen=True)
class Registered:
    """A device as the registry lists it."""

    device_id: str
    device_class: str
    name: str
    location: str
    note: str
    added_at: datetime
    added_by: str

    @property
    def key(self) -> DeviceKey:
        return (self.device_class, self.device_id)


def _invalid(detail: str, zh: str) -> UserError:
    return UserError(ErrorCode.INVALID, detail, zh)


# ---------------------------------------------------------------- reading


def read_registry(conn: Connection) -> list[Registered]:
    return [Registered(r.device_id, r.device_class, r.name, r.location, r.note, r.added_at,
                       r.added_by)
            for r in conn.execute(select(devices).order_by(devices.c.device_id))]


def registry_names(conn: Connection) -> dict[DeviceKey, str]:
    """(class, id) → name of every registered device, for the live hall."""
    return {(c, i): n for c, i, n in conn.execute(
        select(devices.c.device_class, devices.c.device_id, devices.c.name))}


def read_sightings(conn: Connection) -> dict[DeviceKey, datetime]:
    """(class, id) → when the hub last knew the device online (naive UTC)."""
    return {(c, i): at for c, i, at in conn.execute(select(
        device_sightings.c.device_class, device_sightings.c.device_id,
        device_sightings.c.online_at))}


def record_sighting(conn: Connection, key: DeviceKey, at: datetime) -> None:
    """The device was online at `at` (naive UTC)."""
    device_class, device_id = key
    done = conn.execute(update(device_sightings).where(
        device_sightings.c.device_class == device_class,
        device_sightings.c.device_id == device_id).values(online_at=at))
    if not done.rowcount:
        conn.execute(insert(device_sightings).values(device_class=device_class,
                                                     device_id=device_id, online_at=at))


# ---------------------------------------------------------------- checks


def check_class(device_class: str) -> DeviceClass:
    if not device_class:
        raise _invalid("no class", "请选择设备类型")
    found = next((c for c in REGISTRABLE if c.value == device_class), None)
    if found is None:
        raise _invalid(f"class {device_class[:20]}",
                       f"没有这种设备类型：{device_class[:20]}（可选："
                       + "、".join(CLASS_ZH[c.value] for c in REGISTRABLE) + "）")
    return found


def check_id(device_id: str) -> str:
    device_id = device_id.strip().lower()
    if not device_id:
        raise _invalid("no id", "请填写设备编号")
    if not DEVICE_ID.fullmatch(device_id):
        raise _invalid(f"id {device_id[:32]!r}",
                       "设备编号须为1–32位小写字母、数字或连字符，以字母或数字开头"
                       "（即设备配置中的 DEVICE_ID，例如 kiosk-1）")
    return device_id


def _text(value: str, what: str, longest: int, *, required: bool = False) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise _invalid(f"{what} empty", f"请填写{what}")
    if len(value) > longest:
        raise _invalid(f"{what} too long", f"{what}最多{longest}字")
    return value


def _free_name(conn: Connection, name: str, device_id: str | None = None) -> str:
    """The name, if no other device has it."""
    holder = conn.scalar(select(devices.c.device_id).where(devices.c.name == name))
    if holder is not None and holder != device_id:
        raise _invalid(f"name taken by {holder}",
                       f"名称“{name}”已被设备{holder}使用，请换一个名称")
    return name


def _row(conn: Connection, device_id: str) -> Any:
    row = conn.execute(select(devices).where(devices.c.device_id == device_id)).one_or_none()
    if row is None:
        raise _invalid(f"no device {device_id[:32]}", f"没有登记编号为{device_id[:32]}的设备")
    return row


def _shown(row: Any) -> dict[str, Any]:
    """What the audit log keeps of a device."""
    return {"device_name": row.name, "device_class": row.device_class,
            "location": row.location, "note": row.note}


# ---------------------------------------------------------------- changes


def add_device(conn: Connection, device_class: str, device_id: str, name: str, location: str,
               note: str, who: str, now: datetime, reason: str | None = None) -> str:
    """Register a device; its id (as stored: lower case)."""
    kind = check_class(device_class)
    device_id = check_id(device_id)
    name = _text(name, "设备名称", NAME_MAX, required=True)
    location = _text(location, "安装位置", LOCATION_MAX)
    note = _text(note, "备注", NOTE_MAX)
    there = conn.execute(select(devices.c.device_class, devices.c.name)
                         .where(devices.c.device_id == device_id)).one_or_none()
    if there is not None:
        raise _invalid(f"{device_id} registered",
                       f"设备编号{device_id}已登记为{CLASS_ZH.get(there[0], there[0])}"
                       f"“{there[1]}”，同一编号只能登记一次")
    conn.execute(insert(devices).values(
        device_id=device_id, device_class=kind.value, name=_free_name(conn, name),
        location=location, note=note, added_at=now, added_by=who[:50]))
    audit.record(conn, now, who, "device.add", f"device {device_id}", None,
                 _shown(_row(conn, device_id)), reason)
    return device_id


def edit_device(conn: Connection, device_id: str, name: str, location: str, note: str,
                who: str, now: datetime) -> None:
    """A new name, location or note (the class and id stay: register again for those)."""
    before = _row(conn, device_id)
    name = _free_name(conn, _text(name, "设备名称", NAME_MAX, required=True), device_id)
    conn.execute(update(devices).where(devices.c.device_id == device_id).values(
        name=name, location=_text(location, "安装位置", LOCATION_MAX),
        note=_text(note, "备注", NOTE_MAX)))
    audit.record(conn, now, who, "device.edit", f"device {device_id}", _shown(before),
                 _shown(_row(conn, device_id)))


def remove_device(conn: Connection, device_id: str, who: str, now: datetime,
                  reason: str | None = None) -> Registered:
    """Take a device off the registry (it is listed as 未登记 again if it reports); what
    it was."""
    row = _row(conn, device_id)
    conn.execute(delete(devices).where(devices.c.device_id == device_id))
    audit.record(conn, now, who, "device.remove", f"device {device_id}", _shown(row), None,
                 reason)
    return Registered(row.device_id, row.device_class, row.name, row.location, row.note,
                      row.added_at, row.added_by)


def suggested_name(conn: Connection, key: DeviceKey) -> str:
    """A name for a device that reports but is not registered: 1号取号机 for kiosk-1,
    5号窗口叫号器 for caller-5 when the hall has a window 5; else its class and id (never
    a name another device has)."""
    device_class, device_id = key
    number = re.search(r"(?<!\d)(\d{1,3})$", device_id)
    fallback = f"{CLASS_ZH.get(device_class, device_class)} {device_id}"
    name = fallback
    if number and device_class == DeviceClass.KIOSK:
        name = f"{int(number.group(1))}号取号机"
    elif number and device_class == DeviceClass.CALLER and conn.scalar(
            select(windows.c.number).where(windows.c.number == int(number.group(1)))):
        name = f"{int(number.group(1))}号窗口叫号器"
    for candidate in (name, fallback):
        if conn.scalar(select(devices.c.device_id).where(devices.c.name == candidate)) is None:
            return candidate[:NAME_MAX]
    return f"{fallback[:NAME_MAX - 4]}（新）"
