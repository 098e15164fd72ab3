"""A hall for benchmarks: a real broker and the hub as its own process, on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hallsim.broker import Broker
from hallsim.hub_process import HubProcess


@dataclass
class BenchHall:
    broker: Broker
    hub: HubProcess
    hall_id: str
    workdir: Path

    @property
    def db(self) -> Path:
        return self.workdir / "hub.db"


@contextmanager
def bench_hall(workdir: Path | None = None, catalogue: Path | None = None
               ) -> Iterator[BenchHall]:
    """Broker + hub process in a fresh folder (on the same disk as the bare SQLite loop)."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        root = Path(tmp)
        broker = Broker(root / "broker")
        broker.start()
        hub = HubProcess(broker, "bench", root / "hub.db", root / "hub.log", catalogue)
        try:
            hub.start()
            yield BenchHall(broker, hub, "bench", root)
        finally:
            hub.stop()
            broker.stop()
