"""Live update latency of the managers' dashboard (issue 9): a window calls the next
ticket, and the open dashboard's event stream shows it. Target: p99 <= 100 ms.

    .venv/bin/python bench/live_latency.py [--calls 200] [--process]

A real Mosquitto (HallQ config, passwords, ACL) and a real hub: `hub.app.Hub` in this
process as the tests run it, or with --process `python -m hub` on its own as systemd runs
it (hallsim/hub_process.py); a fresh SQLite file (WAL, FULL), the hall's clock at
Wednesday 25 November 2026, 09:00. An administrator signs in over HTTP (CSRF token and
all) and opens /events with requests (stream=True, the signed-in session), read line by
line on a thread of its own, as a browser's EventSource would. A kiosk (KioskCore, its
slips into a file) takes --calls tickets for the items of window 5, each confirmed as
printed; the window's caller (CallerCore) signs in its A post and opens, then calls next
--calls times. Each call is timed from just before the caller sends its CallNext (outbox
fsync, MQTT QoS 1) to the arrival of the first server-sent event whose state shows window
5 serving that ticket's number. Between calls (not timed) the case is finished and the
stream shows the window free again. Also printed: the caller's own round trip (request to
TicketCalled reply) and the CPU of the machine over the timed part.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard_pages import (  # noqa: E402
    CpuMeter,
    ensure_account,
    hub_settings,
    sign_in,
    start_hub,
)
from bench.figures import percentile, report  # noqa: E402
from caller_display.caller_core import CallerCore  # noqa: E402
from hallsim.broker import Broker  # noqa: E402
from hallsim.hub_process import HubProcess  # noqa: E402
from hub.catalogue import load_catalogue  # noqa: E402
from hub.db.engine import make_engine  # noqa: E402
from kiosk.core import KioskCore  # noqa: E402
from kiosk.settings import KioskSettings  # noqa: E402
from printing.printers import FilePrinter  # noqa: E402
from protocol.link import DeviceLink  # noqa: E402
from protocol.messages import CaseFinished, TicketCalled  # noqa: E402
from protocol.settings import DeviceSettings  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

WINDOW, STAFF, PIN = 5, "S051", "123456"  # window 5's A post, with the catalogue's PIN
START_AT = datetime(2026, 11, 25, 9, 0)  # a Wednesday morning: in service hours


@dataclass(frozen=True)
class Seen:
    at: float  # perf_counter when the event's last line arrived
    status: str | None  # window 5's status in that state
    serving: str | None  # the number window 5 serves in that state


class Stream:
    """The dashboard's /events, read on a thread: window 5 as each event shows it."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.response = session.get(url, stream=True, timeout=(5, 60))
        if self.response.status_code != 200:
            raise SystemExit(f"/events: HTTP {self.response.status_code}")
        self.events: list[Seen] = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True, name="sse")
        self.thread.start()

    def _read(self) -> None:
        data = ""
        try:
            for raw in self.response.iter_lines(chunk_size=65536):
                if raw.startswith(b"data:"):
                    data = raw[5:].decode()
                elif raw == b"" and data:
                    at = time.perf_counter()
                    state = json.loads(data)
                    data = ""
                    mine = next((w for w in state["windows"] if w["window"] == WINDOW), None)
                    seen = Seen(at, mine and mine["status"], mine and mine["serving"])
                    with self.cond:
                        self.events.append(seen)
                        self.cond.notify_all()
        except (requests.RequestException, AttributeError):  # closed at the end of the run
            return

    def mark(self) -> int:
        with self.cond:
            return len(self.events)

    def wait(self, after: int, serving: str | None, timeout: float = 5.0) -> Seen:
        """The first event past the first `after` showing window 5 serving `serving`
        (None: free again)."""
        def found() -> Seen | None:
            return next((e for e in self.events[after:] if e.serving == serving
                         and (e.status == "serving") == (serving is not None)), None)
        with self.cond:
            if not self.cond.wait_for(lambda: found() is not None, timeout):
                raise SystemExit(f"no event showed window {WINDOW} serving {serving} "
                                 f"within {timeout} s")
            seen = found()
        assert seen is not None
        return seen

    def close(self) -> None:
        self.response.close()


def link(broker: Broker, workdir: Path, device_class: DeviceClass, device_id: str
         ) -> DeviceLink:
    settings = DeviceSettings(hall_id="bench", device_id=device_id, data_dir=workdir / "devices",
                              mqtt=broker.settings_for(device_class))
    dl = DeviceLink(settings, device_class)
    dl.start()
    if not dl.wait_connected(10):
        raise SystemExit(f"{device_id} did not reach the broker")
    return dl


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--process", action="store_true",
                   help="run the hub as its own process (python -m hub), not in this one")
    args = p.parse_args()
    services = next(w for w in load_catalogue().windows if w.number == WINDOW).services
    latencies: list[float] = []
    replies: list[float] = []
    before_reply = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = Broker(root / "broker")
        broker.start()
        hub_process: HubProcess | None = None
        try:
            if args.process:
                hub_process = HubProcess(broker, "bench", root / "hub.db", root / "hub.log",
                                         start_at=START_AT)
                hub_process.start()
                engine = make_engine(f"sqlite:///{root / 'hub.db'}")
                ensure_account(engine)
                engine.dispose()
                base, hub = hub_process.dashboard_url.rstrip("/"), None
            else:
                hub = start_hub(hub_settings(root / "hub.db", broker, START_AT))
                ensure_account(hub.engine)
                base = hub.dashboard_url.rstrip("/")
            try:
                stream = Stream(sign_in(base), f"{base}/events")
                kiosk_link = link(broker, root, DeviceClass.KIOSK, "kiosk-1")
                kiosk = KioskCore(KioskSettings(hall_id="bench", device_id="kiosk-1",
                                                data_dir=root / "devices"),
                                  kiosk_link, FilePrinter(root / "kiosk-1.escpos"))
                caller = CallerCore(link(broker, root, DeviceClass.CALLER, f"caller-{WINDOW}"),
                                    WINDOW)
                for i in range(args.calls):
                    taken = kiosk.take_ticket(services[i % len(services)], timeout=10)
                    if taken.issued is None or not taken.printed:
                        raise SystemExit(f"ticket {i} not issued and printed: {taken}")
                caller.sign_in(STAFF, PIN)
                if caller.open() is None:
                    raise SystemExit("the window did not open")
                stream.wait(0, None)  # the stream shows the window open and free
                time.sleep(0.5)
                meter = CpuMeter()
                for _ in range(args.calls):
                    mark = stream.mark()
                    t0 = time.perf_counter()
                    called = caller.call_next()
                    t_reply = time.perf_counter()
                    if not isinstance(called, TicketCalled):
                        raise SystemExit(f"call refused: {called}")
                    seen = stream.wait(mark, called.ticket.number)
                    latencies.append((seen.at - t0) * 1000)
                    replies.append((t_reply - t0) * 1000)
                    before_reply += seen.at < t_reply
                    mark = stream.mark()
                    if not isinstance(caller.finish(), CaseFinished):
                        raise SystemExit("finish refused")
                    stream.wait(mark, None)
                cpu = meter.summary()
                stream.close()
                for dl in (kiosk_link, caller.link):
                    dl.stop()
            finally:
                if hub is not None:
                    hub.stop()
        finally:
            if hub_process is not None:
                hub_process.stop()
            broker.stop()
    where = "its own process (python -m hub)" if args.process else "this process (hub.app.Hub)"
    print(f"calls: {len(latencies)} at window {WINDOW}; hub in {where}; caller press -> "
          f"dashboard /events event showing the number (requests, loopback)")
    report("call -> SSE", latencies, 14)
    report("call reply", replies, 14)
    print(f"event before the caller's reply: {before_reply} of {len(latencies)}")
    print(cpu)
    p99 = percentile(latencies, 0.99)
    print(f"p99 {p99:.2f} ms   target <= 100 ms: {'met' if p99 <= 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
