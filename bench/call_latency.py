"""Call latency: staff press "call next" → the main screen has the new call.

    .venv/bin/python bench/call_latency.py [--calls 1000]

The caller is a real device link (outbox fsync, MQTT QoS 1 to the broker), the hub
a separate process committing with SQLite FULL, the display a real device link
receiving the retained window state. Measured from `send()` on the caller to the
display's callback, over --calls calls. Target: p99 <= 15 ms on loopback.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile  # noqa: E402
from bench.hall import bench_hall, tickets_in_hand  # noqa: E402
from protocol.link import State  # noqa: E402
from protocol.messages import (  # noqa: E402
    CallNext,
    FinishCase,
    OpenWindow,
    TicketCalled,
    WindowState,
)
from protocol.topics import DeviceClass  # noqa: E402

WINDOW, SERVICE = 5, "GA_HJQY"



def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=1000)
    args = p.parse_args()
    seen_seq = 0
    arrived = threading.Condition()

    def on_state(state: State, live: bool) -> None:
        nonlocal seen_seq
        if isinstance(state, WindowState) and state.window == WINDOW:
            with arrived:
                seen_seq = max(seen_seq, state.call_seq)
                arrived.notify_all()

    with bench_hall() as hall:
        kiosk, caller, display = (hall.link(DeviceClass.KIOSK, "kiosk-1"),
                                  hall.link(DeviceClass.CALLER, "caller-5"),
                                  hall.link(DeviceClass.DISPLAY, "main-screen", on_state))
        tickets_in_hand(kiosk, SERVICE, args.calls)
        caller.send(OpenWindow(request_id=uuid4(), window=WINDOW)).wait(5)
        time.sleep(0.5)
        latencies: list[float] = []
        for _ in range(args.calls):
            with arrived:
                want = seen_seq + 1
            t0 = time.perf_counter()
            reply = caller.send(CallNext(request_id=uuid4(), window=WINDOW))
            with arrived:
                if not arrived.wait_for(lambda: seen_seq >= want, timeout=5):  # noqa: B023
                    raise SystemExit("the display never saw the call")
            latencies.append((time.perf_counter() - t0) * 1000)
            called = reply.wait(5)
            assert isinstance(called, TicketCalled), called
            caller.send(FinishCase(request_id=uuid4(), window=WINDOW,
                                   ticket_id=called.ticket.id)).wait(5)
        for dl in (kiosk, caller, display):
            dl.stop()
    print(f"calls: {len(latencies)} (caller press -> main screen state, loopback)")
    print(f"p50: {statistics.median(latencies):6.2f} ms")
    print(f"p90: {percentile(latencies, 0.90):6.2f} ms")
    print(f"p99: {percentile(latencies, 0.99):6.2f} ms   (target <= 15 ms)")
    print(f"max: {max(latencies):6.2f} ms")


if __name__ == "__main__":
    main()
