"""A kiosk and a window's caller in a process of their own, for tests/faults/
test_clock_jumps.py to run under libfaketime with a clock far from the hub's:

    python -m tests.faults.clock_device CODE     (settings from HALLQ_TEST_* variables)

The kiosk takes a ticket and checks in the appointment whose QR text is CODE; window 5
signs in, calls, finishes and has the case reviewed. Each answer is printed as one JSON
line, with what this process's clock read, for the test to compare with the hub's.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from caller_display.caller_core import CallerCore
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter
from protocol.link import DeviceLink
from protocol.messages import AnyReply
from protocol.settings import DeviceSettings, MqttSettings
from protocol.topics import DeviceClass

ZONE = ZoneInfo("Asia/Shanghai")


def say(step: str, reply: AnyReply | None, **extra: Any) -> None:
    device_now = datetime.now(ZONE).replace(tzinfo=None).isoformat()  # the hall's wall time
    print(json.dumps({"step": step, "device_now": device_now,
                      "reply": reply.model_dump(mode="json") if reply else None, **extra},
                     ensure_ascii=False), flush=True)


def link(device_class: DeviceClass, device_id: str) -> DeviceLink:
    env = os.environ
    mqtt = MqttSettings(host="127.0.0.1", port=int(env["HALLQ_TEST_PORT"]),
                        username=device_class.value,
                        password=env[f"HALLQ_TEST_{device_class.value.upper()}_PASSWORD"])
    return DeviceLink(DeviceSettings(hall_id=env["HALLQ_TEST_HALL"], device_id=device_id,
                                     mqtt=mqtt, data_dir=Path(env["HALLQ_TEST_DATA"])),
                      device_class)


def main(code: str) -> None:
    data = Path(os.environ["HALLQ_TEST_DATA"])
    kiosk_link = link(DeviceClass.KIOSK, os.environ["HALLQ_TEST_KIOSK"])
    kiosk = KioskCore(KioskSettings(hall_id=os.environ["HALLQ_TEST_HALL"],
                                    device_id=os.environ["HALLQ_TEST_KIOSK"], data_dir=data),
                      kiosk_link, FilePrinter(data / "kiosk.escpos"))
    window_link = link(DeviceClass.CALLER, os.environ["HALLQ_TEST_CALLER"])
    window = CallerCore(window_link, 5)
    for started in (kiosk_link, window_link):
        started.start()
        assert started.wait_connected(10)
    try:
        taken = kiosk.take_ticket("GA_HJQY")
        say("take_ticket", taken.issued or taken.error)
        checked = kiosk.check_in(code)
        say("check_in", checked.issued or checked.error)
        say("sign_in", window.sign_in("S051", "123456"))
        say("open", window.open())
        say("call_next", window.call_next())
        say("finish", window.finish())
        say("review", window.review("satisfied"))
    finally:
        kiosk.stop()
        kiosk_link.stop()
        window_link.stop()


if __name__ == "__main__":
    main(sys.argv[1])
