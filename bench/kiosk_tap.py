"""The kiosk: a tap → the ticket's bytes at the printer adapter, and its memory over a day.

    .venv/bin/python bench/kiosk_tap.py [--tickets 1000] [--windows 4]

A real kiosk core (DeviceLink with its fsync'd outbox, MQTT QoS 1, the ESC/POS layout,
the journal, the confirmation) against the hub as its own process with SQLite FULL.
Measured from the tap (`take_ticket`) to the moment the ticket's bytes reach the printer
adapter, over --tickets taps spread over 8 items, while --windows windows call and finish
tickets in the background so the queue stays a hall's size. Also the kiosk process's RSS
at the start, after the first 100 tickets and at the end (growth would be a leak).
Targets (issue 5): p99 <= 50 ms; RSS <= 150 MB, no growth.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile  # noqa: E402
from bench.hall import bench_hall  # noqa: E402
from kiosk.core import KioskCore  # noqa: E402
from kiosk.settings import KioskSettings  # noqa: E402
from printing.printers import FilePrinter  # noqa: E402
from protocol.link import DeviceLink  # noqa: E402
from protocol.messages import CallNext, FinishCase, OpenWindow, TicketCalled  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

ITEMS = ["GA_HJQY", "GA_SFZHL", "BDC_CX", "SW_FPLY", "RS_SBKSL", "YB_YDJY", "MZ_JHDJ",
         "SC_GTDJ"]
WINDOWS = [5, 6, 7, 9, 1, 2, 10, 3]


class TimedPrinter(FilePrinter):
    """A file printer that notes when each slip's bytes arrive."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.arrived = 0.0

    def print_bytes(self, data: bytes) -> None:
        self.arrived = time.perf_counter()
        super().print_bytes(data)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")



def serve(link: DeviceLink, window: int, stop: threading.Event) -> None:
    """A window calling and finishing, ~2 s a case, so the queue does not grow forever."""
    link.send(OpenWindow(request_id=uuid4(), window=window)).wait(5)
    while not stop.is_set():
        called = link.send(CallNext(request_id=uuid4(), window=window)).wait(5)
        if isinstance(called, TicketCalled):
            stop.wait(2.0)
            link.send(FinishCase(request_id=uuid4(), window=window,
                                 ticket_id=called.ticket.id)).wait(5)
        else:
            stop.wait(0.5)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tickets", type=int, default=1000)
    p.add_argument("--windows", type=int, default=4)
    args = p.parse_args()
    with bench_hall() as hall, tempfile.TemporaryDirectory() as tmp:
        link = hall.link

        stop = threading.Event()
        callers = [link(DeviceClass.CALLER, f"caller-{w}") for w in WINDOWS[:args.windows]]
        servers = [threading.Thread(target=serve, args=(c, w, stop), daemon=True)
                   for c, w in zip(callers, WINDOWS, strict=False)]
        for t in servers:
            t.start()
        printer = TimedPrinter(Path(tmp) / "tickets.escpos")
        settings = KioskSettings(hall_id=hall.hall_id, device_id="kiosk-1", data_dir=Path(tmp))
        kiosk_link = link(DeviceClass.KIOSK, "kiosk-1")
        kiosk = KioskCore(settings, kiosk_link, printer)
        rss = {"start": rss_mb()}
        taps: list[float] = []
        for n, item in zip(range(args.tickets), itertools.cycle(ITEMS), strict=False):
            start = time.perf_counter()
            result = kiosk.take_ticket(item)
            assert result.printed, result
            taps.append((printer.arrived - start) * 1000)
            if n + 1 == 100:
                rss["after 100"] = rss_mb()
        rss[f"after {args.tickets}"] = rss_mb()
        stop.set()
        for t in servers:
            t.join(timeout=10)
        for dl in [*callers, kiosk_link]:
            dl.stop()
    print(f"kiosk: {args.tickets} taps over {len(ITEMS)} items, {args.windows} windows serving")
    print(f"tap -> ticket bytes at the printer: p50 {statistics.median(taps):6.2f} ms, "
          f"p90 {percentile(taps, 0.9):6.2f} ms, p99 {percentile(taps, 0.99):6.2f} ms, "
          f"max {max(taps):6.2f} ms   (target p99 <= 50 ms)")
    print("kiosk RSS: " + ", ".join(f"{k} {v:.1f} MB" for k, v in rss.items())
          + "   (target <= 150 MB, no growth)")


if __name__ == "__main__":
    main()
