"""Running a screen driver (tests/screen_driver.py) in its own process from a test: a
headless Kivy (SDL's offscreen driver, no X server), the device's settings as environment,
the driver's "@event" lines answered, a time limit, and its report read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hallsim.broker import Broker
from protocol import topics
from protocol.link import new_client
from protocol.messages import HubProblem, HubStatus
from protocol.topics import DeviceClass

ROOT = Path(__file__).resolve().parents[1]


def screen_env(broker: Broker, device_class: DeviceClass, prefix: str, tmp_path: Path,
               settings: Mapping[str, str]) -> dict[str, str]:
    """A headless Kivy and a device's settings (HALLQ_<PREFIX>_…) with the broker's login."""
    mqtt = broker.settings_for(device_class)
    assert mqtt.password is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HALLQ_", "KIVY_"))}
    env.update({
        "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1", "KIVY_HOME": str(tmp_path / "kivy"),
        "KIVY_LOG_MODE": "PYTHON", "KIVY_NO_CONSOLELOG": "1",
        f"HALLQ_{prefix}_MQTT__HOST": mqtt.host, f"HALLQ_{prefix}_MQTT__PORT": str(mqtt.port),
        f"HALLQ_{prefix}_MQTT__USERNAME": mqtt.username or "",
        f"HALLQ_{prefix}_MQTT__PASSWORD": mqtt.password.get_secret_value(),
    })
    env.update({f"HALLQ_{prefix}_{k}": v for k, v in settings.items()})
    return env


def run_driver(module: str, out: Path, env: Mapping[str, str], log_path: Path,
               on_event: Mapping[str, Callable[[], None]] | None = None,
               timeout_s: float = 90) -> dict[str, Any]:
    """Run `python -m module OUT` until it ends; its report's steps. Fails with the end of
    its log if it exits badly or a step failed; `timeout_s` only stops a hung window."""
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", module, str(out)], cwd=ROOT,
                                env=dict(env), stdout=subprocess.PIPE, stderr=log, text=True)
        killer = threading.Timer(timeout_s, proc.kill)
        killer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:  # the driver asks for the hub to go and come back
                if line.startswith("@") and on_event and line.strip()[1:] in on_event:
                    on_event[line.strip()[1:]]()
            code = proc.wait()
        finally:
            killer.cancel()
            proc.kill()
    driver_log = log_path.read_text()
    assert code == 0, f"driver exited {code}:\n{driver_log[-3000:]}"
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    assert report["error"] is None, report["error"] + driver_log[-3000:]
    return report


def disk_events(broker: Broker, hall_id: str) -> dict[str, Callable[[], None]]:
    """A driver's "disk-full" and "disk-room": the hub's status as the hub publishes it when
    its disk fills and frees (the hub's side of that: tests/faults/test_disk_full.py)."""
    mqtt = broker.settings_for(DeviceClass.HUB)

    def hub_says(problem: HubProblem | None) -> Callable[[], None]:
        def say() -> None:
            client = new_client(mqtt, "test-hub-status")
            client.connect(mqtt.host, mqtt.port)
            client.loop_start()
            client.publish(topics.hub_status_topic(hall_id),
                           HubStatus(status="online", problem=problem).model_dump_json(),
                           qos=1, retain=True).wait_for_publish(5)
            client.disconnect()
            client.loop_stop()
        return say

    return {"disk-full": hub_says("storage_full"), "disk-room": hub_says(None)}
