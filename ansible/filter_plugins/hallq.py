"""HallQ's filters for the playbook, run on the control machine.

The broker's ACL comes from the protocol's own definition (`protocol.topics.hall_acl`),
imported from this checkout, so the playbook never keeps a copy of the topic design.
Password hashes are Mosquitto's `$7$` form (PBKDF2-SHA512, as `mosquitto_passwd` writes
them) with a salt derived from the user and password: the same secrets give the same
file, so a second run changes nothing. The passwords are 32 random characters, so a salt
that is not random costs nothing real.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]  # the checkout: protocol/ is importable from here
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from protocol.topics import DeviceClass, hall_acl  # noqa: E402  (after the path above)

ITERATIONS = 101  # mosquitto_passwd's own count in Mosquitto 2.0


def mosquitto_hash(password: str, username: str) -> str:
    """One password file entry's hash: `$7$101$<salt>$<PBKDF2-SHA512>`."""
    salt = hashlib.sha512(f"hallq-mqtt\0{username}\0{password}".encode()).digest()[:12]
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    return (f"$7${ITERATIONS}${base64.b64encode(salt).decode()}$"
            f"{base64.b64encode(digest).decode()}")


# The inventory's groups that are devices, by their device class (the hub signs in as "hub").
DEVICE_GROUPS = (DeviceClass.KIOSK, DeviceClass.CALLER, DeviceClass.DISPLAY, DeviceClass.GUIDE)


def hall_devices(groups: dict[str, list[str]]) -> list[list[str]]:
    """[device class, device id] of every device in the inventory (its name is its id)."""
    return [[c.value, host] for c in DEVICE_GROUPS for host in groups.get(c.value, [])]


def broker_acl(devices: list[list[str]], hall_id: str) -> str:
    """The hall's ACL for devices given as [device class, device id] pairs."""
    return hall_acl(hall_id, [(DeviceClass(c), d) for c, d in devices])


class FilterModule:
    """Ansible's entry point for filter plugins."""

    def filters(self) -> dict[str, Any]:
        return {"hallq_mosquitto_hash": mosquitto_hash, "hallq_broker_acl": broker_acl,
                "hallq_hall_devices": hall_devices}
