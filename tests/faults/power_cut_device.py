"""A device in a process of its own, for tests/faults/test_power_loss.py to cut its power.

`python -m tests.faults.power_cut_device MODE` with the device in HALLQ_TEST_DEVICE (JSON:
hall_id, device_class, device_id, data_dir, port, username, password). Each answer it
gets is printed as a line "answer <reply JSON>"; lines are flushed as they are written,
so what a killed process printed is there to read.

- `cut-before` REQUEST_JSON ACTION: connect, send the request through the real
  DeviceLink (outbox first), and die by SIGKILL at the moment it would be published.
- `cut-after` REQUEST_JSON ACTION: the same, but die once the broker has the request
  (its PUBACK), before the hub's answer can arrive.
- `resume`: start again on the same data directory, wait until the outbox is empty, print
  the answers that came for requests from before, and stop cleanly.
- `stream SERVICE`: a kiosk's citizens one after another: "sending <id>" before each
  request, "sent <id>" once `send` returned (the outbox holds it), then the answer; runs
  until killed from outside. Answers to requests of an earlier life come as "late <id>".
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from pydantic import SecretStr

from protocol.link import DeviceLink
from protocol.messages import REQUEST_BY_ACTION, AnyReply, IssueTicket
from protocol.settings import DeviceSettings, MqttSettings
from protocol.topics import DeviceClass

ENV = "HALLQ_TEST_DEVICE"


def say(line: str) -> None:
    print(line, flush=True)


def make_link(on_late_reply: Any = None) -> DeviceLink:
    d = json.loads(os.environ[ENV])
    mqtt = MqttSettings(host="127.0.0.1", port=d["port"], username=d["username"],
                        password=SecretStr(d["password"]))
    settings = DeviceSettings(hall_id=d["hall_id"], device_id=d["device_id"], mqtt=mqtt,
                              data_dir=Path(d["data_dir"]), resend_after=0.5)
    return DeviceLink(settings, DeviceClass(d["device_class"]), on_late_reply=on_late_reply)


def cut(request_json: str, action: str, after_publish: bool) -> None:
    link = make_link()
    link.start()
    if not link.wait_connected(10):
        sys.exit("no broker")
    publish = link.client.publish

    def publish_then_die(topic: str, payload: Any = None, qos: int = 0,
                         retain: bool = False, properties: Any = None) -> Any:
        if "/req/" not in topic:
            return publish(topic, payload, qos, retain, properties)
        if after_publish:
            publish(topic, payload, qos, retain, properties).wait_for_publish(timeout=5)
        say("power cut")
        os.kill(os.getpid(), signal.SIGKILL)

    link.client.publish = publish_then_die  # type: ignore[method-assign]
    link.send(REQUEST_BY_ACTION[action].model_validate_json(request_json))
    sys.exit("still alive after the power cut")


def resume() -> None:
    late: list[AnyReply] = []
    link = make_link(on_late_reply=late.append)
    waiting = len(link.outbox)  # each gets its answer once, through on_late_reply
    link.start()
    deadline = time.monotonic() + 30
    while len(late) < waiting and time.monotonic() < deadline:
        time.sleep(0.05)
    for reply in late:
        say(f"answer {reply.model_dump_json()}")
    left = len(link.outbox)
    link.stop()
    sys.exit(f"{left} requests still in the outbox" if left else 0)


def stream(service: str) -> None:
    link = make_link(on_late_reply=lambda r: say(f"late {r.request_id}"))
    link.start()
    while True:
        request = IssueTicket(request_id=uuid4(), service=service)
        say(f"sending {request.request_id}")
        pending = link.send(request)
        say(f"sent {request.request_id}")
        reply = pending.wait(30)
        if reply is not None:
            say(f"answer {reply.model_dump_json()}")
        threading.Event().wait(0.02)


def main() -> None:
    mode = sys.argv[1]
    if mode in ("cut-before", "cut-after"):
        cut(sys.argv[2], sys.argv[3], after_publish=mode == "cut-after")
    elif mode == "resume":
        resume()
    elif mode == "stream":
        stream(sys.argv[2])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
