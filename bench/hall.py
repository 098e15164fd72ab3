"""A hall for benchmarks: a real broker and the hub as its own process, on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from hallsim.broker import Broker
from hallsim.hub_process import HubProcess
from protocol.link import DeviceLink, StateHandler
from protocol.messages import ConfirmTicket, IssueTicket, TicketIssued
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass


@dataclass
class BenchHall:
    broker: Broker
    hub: HubProcess
    hall_id: str
    workdir: Path

    @property
    def db(self) -> Path:
        return self.workdir / "hub.db"

    def link(self, device_class: DeviceClass, device_id: str,
             on_state: StateHandler | None = None,
             windows: Iterable[int] | None = None) -> DeviceLink:
        """A device's link to this hall (its outbox in the hall's folder), connected;
        `windows` as DeviceLink's (the window states it reads; None: all)."""
        settings = DeviceSettings(hall_id=self.hall_id, device_id=device_id,
                                  data_dir=self.workdir / "devices",
                                  mqtt=self.broker.settings_for(device_class))
        link = DeviceLink(settings, device_class, on_state=on_state, windows=windows)
        link.start()
        link.wait_connected(10)
        return link


@contextmanager
def bench_hall(workdir: Path | None = None, catalogue: Path | None = None,
               db_url: str | None = None) -> Iterator[BenchHall]:
    """Broker + hub process in a fresh folder (on the same disk as the bare SQLite loop);
    the hub's database is a SQLite file there unless `db_url` names another."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        root = Path(tmp)
        broker = Broker(root / "broker")
        broker.start()
        hub = HubProcess(broker, "bench", root / "hub.db", root / "hub.log", catalogue,
                         db_url=db_url)
        try:
            hub.start()
            yield BenchHall(broker, hub, "bench", root)
        finally:
            hub.stop()
            broker.stop()


def tickets_in_hand(kiosk: DeviceLink, service: str, count: int, timeout: float = 60) -> None:
    """Issue `count` tickets and confirm each as printed, as a kiosk does: only then do
    windows call them (no ghost tickets)."""
    issued = [kiosk.send(IssueTicket(request_id=uuid4(), service=service)) for _ in range(count)]
    confirms = []
    for pending in issued:
        reply = pending.wait(timeout)
        assert isinstance(reply, TicketIssued), reply
        confirms.append(kiosk.send(ConfirmTicket(request_id=uuid4(), ticket_id=reply.ticket.id,
                                                 how="printed")))
    for pending in confirms:
        assert pending.wait(timeout) is not None
