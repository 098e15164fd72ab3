"""The hub away while more requests arrive than the broker queues for it.

Mosquitto keeps at most `max_queued_messages` (1,000 by default) QoS 1 messages for a
client that is away and drops the rest, though it acknowledged every one to the
sender. First the broker alone (a plain publisher and a persistent subscriber) shows
that loss; then the same traffic from kiosks with their on-disk outboxes, to the real
hub killed and restarted, loses nothing and applies each request once.

The default run is the same at a tenth of the size (a queue of 100, 150 requests);
`--run-slow` runs the broker's default queue with 1,500 requests.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from uuid import uuid4

import pytest

from hallsim.broker import Broker
from hallsim.hub_process import HubProcess
from protocol.link import DeviceLink
from protocol.messages import IssueTicket
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass
from tests.faults.probes import HubWatch, RawPublisher, RawSubscriber, Resends
from tests.helpers import eventually

SERVICES = ["GA_HJQY", "RS_SBKSL", "YB_CBDJ", "MZ_DB"]


def broker_alone(broker: Broker, total: int) -> tuple[int, int]:
    """The subscriber away while `total` QoS 1 messages are published and acknowledged:
    (acknowledged, delivered once it is back)."""
    sub = RawSubscriber(broker, "raw-hall", "raw-hub")
    sub.connect()
    sub.disconnect()  # the session stays with the broker, which queues for it
    pub = RawPublisher(broker, "raw-hall", "raw-kiosk")
    for seq in range(total):
        pub.publish(seq)
    pub.wait_acknowledged()
    acknowledged = len(pub.acknowledged())
    pub.close()
    sub.connect()
    sub.wait_quiet()
    sub.disconnect()
    assert max(sub.received.values()) == 1
    return acknowledged, len(sub.received)


def run(tmp_path: Path, total: int, queue: int, resends: Resends, resend_after: float,
        kiosks: int = 3) -> None:
    broker = Broker(tmp_path / "broker", max_queued_messages=queue)
    broker.start()
    try:
        started = time.monotonic()
        acknowledged, delivered = broker_alone(broker, total)
        alone_s = time.monotonic() - started
        assert acknowledged == total, "the broker acknowledged every message"
        assert delivered < total, "the broker alone dropped what did not fit its queue"
        assert queue <= delivered <= queue + 20 + 1, "…all but a queue's worth (+ in flight)"

        hall = "queue"
        db = tmp_path / "hub.db"
        hub = HubProcess(broker, hall, db, tmp_path / "hub.log")
        watch = HubWatch(broker, hall)
        mark = watch.mark()
        hub.start()
        watch.wait("online", mark)  # the hub's persistent session, subscribed to the requests
        hub.kill()  # …and away: the broker queues for it
        watch.close()
        links = [DeviceLink(DeviceSettings(hall_id=hall, device_id=f"kiosk-{i}",
                                           mqtt=broker.settings_for(DeviceClass.KIOSK),
                                           data_dir=tmp_path / "devices",
                                           resend_after=resend_after),
                            DeviceClass.KIOSK) for i in range(kiosks)]
        for link in links:
            link.start()
        try:
            for link in links:
                assert link.wait_connected(10)
            sent: dict[str, str] = {}  # request id -> kiosk
            lock = threading.Lock()

            def send(i: int) -> None:
                for n in range(i, total, kiosks):
                    req = IssueTicket(request_id=uuid4(), service=SERVICES[n % len(SERVICES)])
                    links[i].send(req)
                    with lock:
                        sent[str(req.request_id)] = f"kiosk-{i}"

            senders = [threading.Thread(target=send, args=(i,)) for i in range(kiosks)]
            for t in senders:
                t.start()
            for t in senders:
                t.join()
            assert len(sent) == total
            eventually(lambda: f"being dropped for client hub-{hall}" in broker.log.read_text(),
                       timeout=10, what="the broker to say it drops the hub's messages")

            back = time.monotonic()
            hub.start()
            eventually(lambda: sum(len(link.outbox) for link in links) == 0, timeout=120,
                       what="every kiosk's outbox to empty")
            recovered_s = time.monotonic() - back
        finally:
            for link in links:
                link.stop()
            hub.stop()

        conn = sqlite3.connect(db)
        rows = conn.execute("SELECT request_id, device_id FROM tickets").fetchall()
        applied = {rid: device for rid, device in rows}
        answered = conn.execute("SELECT COUNT(*) FROM requests WHERE action = 'issue_ticket'"
                                ).fetchone()[0]
        replays = (tmp_path / "hub.log").read_text().count("replay of issue_ticket")
        print(f"\nbroker queue {queue}: {total} requests while the hub was away "
              f"(devices resend after {resend_after:g} s, backing off to {resend_after * 10:g} s)\n"
              f"  broker alone: {acknowledged} acknowledged, {delivered} delivered, "
              f"{acknowledged - delivered} lost ({alone_s:.1f} s)\n"
              f"  hall (hub + kiosk outboxes): {len(applied)} tickets, "
              f"{total - len(set(sent) & set(applied))} lost, {len(rows) - len(applied)} "
              f"applied twice; {resends.count} resends by the kiosks, {replays} duplicates "
              f"answered from the record; all answered {recovered_s:.1f} s after the hub "
              f"came back")
        assert applied == sent, "every request has its ticket, from its kiosk; none extra"
        assert len(rows) == total and answered == total, "each applied once"
        numbers = conn.execute("SELECT COUNT(DISTINCT number) FROM tickets").fetchone()[0]
        assert numbers == total
    finally:
        broker.stop()


def test_hub_away_past_the_broker_queue_loses_nothing(tmp_path: Path, resends: Resends
                                                      ) -> None:
    run(tmp_path, total=150, queue=100, resends=resends, resend_after=0.5)


@pytest.mark.slow
def test_hub_away_while_1500_requests_arrive(tmp_path: Path, resends: Resends) -> None:
    """Mosquitto's default queue, and the devices' default resend delay (3 s, backing off
    to 30 s): how long the requests the broker dropped take to arrive in a real hall."""
    run(tmp_path, total=1500, queue=1000, resends=resends,
        resend_after=DeviceSettings.model_fields["resend_after"].default)

