"""Every MQTT topic of a hall, and the broker ACL that follows from them.

Topic strings are built here and nowhere else. A device's MQTT username is its
device class and its client id is its device id, so the broker can bind each
device to its own request and reply topics with one pattern. A provisioned hall
gives each device its own account instead (`hall_acl`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

ROOT = "hall"
ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,31}"
_ID = re.compile(ID_PATTERN)


class DeviceClass(StrEnum):
    """Who is on the other end of a connection; also its MQTT username."""

    HUB = "hub"
    KIOSK = "kiosk"
    CALLER = "caller"
    DISPLAY = "display"
    GUIDE = "guide"  # the guide desk (导办台): priority tickets, tickets on behalf of someone


def request_topic(hall_id: str, device_class: DeviceClass, device_id: str, action: str) -> str:
    """Topic a device publishes one kind of request on (QoS 1, not retained)."""
    return f"{ROOT}/{hall_id}/{device_class.value}/{device_id}/req/{action}"


def reply_topic(hall_id: str, device_class: DeviceClass, device_id: str) -> str:
    """Topic the hub answers one device on (QoS 1, not retained)."""
    return f"{ROOT}/{hall_id}/{device_class.value}/{device_id}/reply"


def requests_filter(hall_id: str) -> str:
    """Subscription that gives the hub every request of its hall."""
    return f"{ROOT}/{hall_id}/+/+/req/+"


def window_state_topic(hall_id: str, window: int) -> str:
    """Retained state of one window: open, serving which number, closed."""
    return f"{ROOT}/{hall_id}/state/window/{window}"


def window_states_filter(hall_id: str) -> str:
    """Subscription to the state of every window of a hall."""
    return f"{ROOT}/{hall_id}/state/window/+"


def queue_state_topic(hall_id: str) -> str:
    """Retained state of the queue: waiting per service and the day's totals."""
    return f"{ROOT}/{hall_id}/state/queue"


def hub_status_topic(hall_id: str) -> str:
    """Retained online/offline flag of the hub (its last will says offline)."""
    return f"{ROOT}/{hall_id}/state/hub"


def catalogue_state_topic(hall_id: str) -> str:
    """Retained catalogue: departments and items with their conditions and materials."""
    return f"{ROOT}/{hall_id}/state/catalogue"


def voice_state_topic(hall_id: str) -> str:
    """Retained: how the main screen says calls (repeat, chime, quiet hours), as managers set it."""
    return f"{ROOT}/{hall_id}/state/voice"


def broadcast_topic(hall_id: str) -> str:
    """A hall announcement (广播) to show and say now; an event, not retained."""
    return f"{ROOT}/{hall_id}/event/broadcast"


def events_filter(hall_id: str) -> str:
    """Subscription to every event of a hall (only EVENT_READERS may read them)."""
    return f"{ROOT}/{hall_id}/event/#"


# Who may read the hall's events: the main screen speaks the hall's broadcasts.
EVENT_READERS: tuple[DeviceClass, ...] = (DeviceClass.DISPLAY,)


def device_status_topic(hall_id: str, device_class: DeviceClass, device_id: str) -> str:
    """Retained status a device publishes about itself (online, printer); will: offline."""
    return f"{ROOT}/{hall_id}/{device_class.value}/{device_id}/status"


def device_status_filter(hall_id: str) -> str:
    """Subscription that gives the hub every device's status."""
    return f"{ROOT}/{hall_id}/+/+/status"


def parse_device_status_topic(topic: str) -> tuple[DeviceClass, str] | None:
    """(device class, device id) of a device status topic; None when it is not one."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[4] != "status":
        return None
    if parts[2] not in DeviceClass.__members__.values() or not _ID.fullmatch(parts[3]):
        return None
    return DeviceClass(parts[2]), parts[3]


def states_filter(hall_id: str) -> str:
    """Subscription to every retained state topic of a hall."""
    return f"{ROOT}/{hall_id}/state/#"


def state_filters(hall_id: str, windows: Iterable[int] | None = None) -> list[str]:
    """What a device subscribes to: the hall's states, but of the windows' only those of
    `windows` (None: every window, as a main screen shows them). A kiosk reads no window's
    state and a window its own: with 40 windows a kiosk is spared ~40 messages a call."""
    if windows is None:
        return [states_filter(hall_id)]
    return [queue_state_topic(hall_id), catalogue_state_topic(hall_id),
            hub_status_topic(hall_id), voice_state_topic(hall_id),
            *(window_state_topic(hall_id, w) for w in sorted(set(windows)))]


@dataclass(frozen=True)
class RequestAddress:
    """The parts of a request topic."""

    hall_id: str
    device_class: DeviceClass
    device_id: str
    action: str


def parse_request_topic(topic: str) -> RequestAddress | None:
    """Split a request topic; None when it is not one."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != ROOT or parts[4] != "req":
        return None
    _, hall_id, device_class, device_id, _, action = parts
    if device_class not in DeviceClass.__members__.values():
        return None
    if not (_ID.fullmatch(hall_id) and _ID.fullmatch(device_id)):
        return None
    return RequestAddress(hall_id, DeviceClass(device_class), device_id, action)


def parse_window_state_topic(topic: str) -> int | None:
    """Window number of a window state topic; None when it is not one."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == ROOT and parts[2:4] == ["state", "window"]:
        return int(parts[4]) if parts[4].isdigit() else None
    return None


# What a device may do on its own topics: (access, the topic's tail after its class and id).
_DEVICE_GRANTS = (("write", "req/+"), ("write", "status"), ("read", "reply"))


def _device_grants(hall_id: str, device_class: str, device_id: str) -> list[str]:
    """ACL lines' `access topic` for one device (or for `%u`/`%c` patterns)."""
    return [f"{access} {ROOT}/{hall_id}/{device_class}/{device_id}/{tail}"
            for access, tail in _DEVICE_GRANTS]


def broker_acl() -> str:
    """Mosquitto ACL file text: each device may publish only its own class's requests.

    `%u` is the username (the device class) and `%c` the client id (the device
    id), so a kiosk cannot publish a caller request nor speak for another kiosk.
    Every device reads the hall's retained states; only EVENT_READERS read its events.
    Everything is denied unless a line below allows it.
    """
    lines = [
        "# Written by HallQ from protocol/topics.py; do not edit by hand.",
        *(f"pattern {grant}" for grant in _device_grants("+", "%u", "%c")),
        "",
        f"user {DeviceClass.HUB.value}",
        f"topic readwrite {ROOT}/#",
    ]
    for reader in (DeviceClass.KIOSK, DeviceClass.CALLER, DeviceClass.DISPLAY,
                   DeviceClass.GUIDE):
        lines += ["", f"user {reader.value}", f"topic read {ROOT}/+/state/#"]
        if reader in EVENT_READERS:
            lines.append(f"topic read {ROOT}/+/event/#")
    return "\n".join(lines) + "\n"


def hall_acl(hall_id: str, devices: Iterable[tuple[DeviceClass, str]]) -> str:
    """Mosquitto ACL file text for a real hall: one account per device, its username the
    device id (the broker also makes it the client id), the same grants as `broker_acl()`
    but spelled out for this hall and each device, so a stolen kiosk password speaks only
    for that kiosk. The hub signs in as `hub`."""
    if not _ID.fullmatch(hall_id):
        raise ValueError(f"hall id {hall_id!r} does not match {ID_PATTERN}")
    lines = [
        f"# Written by HallQ from protocol/topics.py for hall {hall_id}; do not edit by hand.",
        "",
        f"user {DeviceClass.HUB.value}",
        f"topic readwrite {ROOT}/{hall_id}/#",
    ]
    seen = {DeviceClass.HUB.value}
    for device_class, device_id in devices:
        if device_class is DeviceClass.HUB or not _ID.fullmatch(device_id):
            raise ValueError(f"not a device: {device_class.value} {device_id!r}")
        if device_id in seen:
            raise ValueError(f"device id {device_id!r} twice (or the hub's own name)")
        seen.add(device_id)
        lines += ["", f"user {device_id}",
                  *(f"topic {grant}" for grant in _device_grants(
                      hall_id, device_class.value, device_id)),
                  f"topic read {states_filter(hall_id)}"]
        if device_class in EVENT_READERS:
            lines.append(f"topic read {events_filter(hall_id)}")
    return "\n".join(lines) + "\n"
