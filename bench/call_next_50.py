"""Call next under 50 windows calling at once: each press to its answer, p50/p99.

    .venv/bin/python bench/call_next_50.py [--windows 50] [--calls 40] [--procs 5]

A city-size hall: the county catalogue plus 50 more windows, all serving 户口迁移
(GA_HJQY), so every window competes for the same queue. Each window is an MQTT
client with the caller's credentials (QoS 1) that presses call next, waits for the
answer, serves for a random while (--serve-ms on average, time compressed) and
finishes, then calls again; every window presses its first call at the same
instant. The windows are spread over --procs processes so the
load generator (50 Pis in a real hall) is not what gets measured. The hub runs
as its own process with SQLite FULL. The bench also checks that no ticket went
to two windows. Target: p99 <= 15 ms on loopback.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile  # noqa: E402
from bench.hall import bench_hall, tickets_in_hand  # noqa: E402
from hub.catalogue import DEFAULT_CATALOGUE  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.link import DeviceLink, new_client  # noqa: E402
from protocol.messages import (  # noqa: E402
    CallNext,
    FinishCase,
    OpenWindow,
    TicketCalled,
    parse_reply,
)
from protocol.settings import DeviceSettings, MqttSettings  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

SERVICE = "GA_HJQY"


def city_catalogue(folder: Path, windows: int) -> tuple[Path, list[int]]:
    """The county catalogue with `windows` more windows, all serving SERVICE."""
    text = DEFAULT_CATALOGUE.read_text()
    first = len(tomllib.loads(text)["windows"]) + 1
    numbers = list(range(first, first + windows))
    extra = "".join(
        f'\n[[windows]]\nnumber = {n}\nname = "{n}号窗口 综合受理"\nkind = "综合窗口"\n'
        f'services = ["{SERVICE}"]\n' for n in numbers)
    path = folder / "city.toml"
    path.write_text(text + extra)
    return path, numbers



def run_windows(mqtt: MqttSettings, hall: str, windows: list[int], calls: int,
                start_at: float, serve_ms: float, out: Any) -> None:
    """One load process: a thread and an MQTT client per window."""
    results: list[tuple[float, int, bool]] = []  # (ms, ticket id, in the first burst)
    lock = threading.Lock()

    def staff(window: int) -> None:
        device = f"caller-{window}"
        rng = random.Random(window)
        replies: queue.Queue[Any] = queue.Queue()
        c = new_client(mqtt, device)
        c.on_message = lambda cl, u, m: replies.put(parse_reply(bytes(m.payload)))
        c.connect(mqtt.host, mqtt.port)
        c.subscribe(topics.reply_topic(hall, DeviceClass.CALLER, device), qos=1)
        c.loop_start()
        time.sleep(max(0.0, start_at - time.time()))

        def ask(req: Any) -> Any:
            c.publish(topics.request_topic(hall, DeviceClass.CALLER, device, req.ACTION),
                      req.model_dump_json(), qos=1)
            return replies.get(timeout=10)

        for n in range(calls):
            t0 = time.perf_counter()
            reply = ask(CallNext(request_id=uuid4(), window=window))
            ms = (time.perf_counter() - t0) * 1000
            assert isinstance(reply, TicketCalled), reply
            with lock:
                results.append((ms, reply.ticket.id, n == 0))
            time.sleep(rng.uniform(0, 2 * serve_ms) / 1000)
            ask(FinishCase(request_id=uuid4(), window=window, ticket_id=reply.ticket.id))
        c.disconnect()
        c.loop_stop()

    threads = [threading.Thread(target=staff, args=(w,)) for w in windows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(results)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--windows", type=int, default=50)
    p.add_argument("--calls", type=int, default=40, help="calls per window")
    p.add_argument("--procs", type=int, default=5, help="load processes")
    p.add_argument("--serve-ms", type=float, default=500, help="mean time at the window")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cat, numbers = city_catalogue(Path(tmp), args.windows)
        with bench_hall(catalogue=cat) as hall:
            settings = DeviceSettings(hall_id=hall.hall_id, device_id="setup", data_dir=Path(tmp),
                                      mqtt=hall.broker.settings_for(DeviceClass.KIOSK))
            kiosk = DeviceLink(settings.model_copy(update={"device_id": "kiosk-1"}),
                               DeviceClass.KIOSK)
            kiosk.start()
            kiosk.wait_connected(10)
            tickets_in_hand(kiosk, SERVICE, args.windows * args.calls)
            kiosk.stop()
            caller_mqtt = hall.broker.settings_for(DeviceClass.CALLER)
            for w in numbers:
                opener = DeviceLink(DeviceSettings(hall_id=hall.hall_id, device_id=f"caller-{w}",
                                                   data_dir=Path(tmp), mqtt=caller_mqtt),
                                    DeviceClass.CALLER)
                opener.start()
                opener.wait_connected(10)
                opener.send(OpenWindow(request_id=uuid4(), window=w)).wait(5)
                opener.stop()
            out: Any = mp.get_context("spawn").Queue()
            start_at = time.time() + 3
            chunks = [numbers[i::args.procs] for i in range(args.procs)]
            procs = [mp.get_context("spawn").Process(
                target=run_windows, args=(caller_mqtt, hall.hall_id, chunk, args.calls,
                                          start_at, args.serve_ms, out)) for chunk in chunks]
            for pr_ in procs:
                pr_.start()
            results = [r for _ in procs for r in out.get(timeout=600)]
            for pr_ in procs:
                pr_.join()
    latencies = [ms for ms, _, _ in results]
    burst = [ms for ms, _, first in results if first]
    steady = [ms for ms, _, first in results if not first]
    served = [tid for _, tid, _ in results]
    assert len(served) == len(set(served)), "a ticket was given to two windows"
    print(f"windows: {len(numbers)} on one queue, first calls all at one instant, then a "
          f"mean {args.serve_ms:g} ms at the window; {len(latencies)} calls, no ticket twice")
    for label, values in (("all calls", latencies), ("after the burst", steady),
                          (f"the burst ({len(burst)} at once)", burst)):
        print(f"call next, press -> answer, {label}: p50 {statistics.median(values):6.2f} ms, "
              f"p90 {percentile(values, 0.9):6.2f} ms, p99 {percentile(values, 0.99):6.2f} ms, "
              f"max {max(values):6.2f} ms")
    print("target: p99 <= 15 ms")


if __name__ == "__main__":
    main()
