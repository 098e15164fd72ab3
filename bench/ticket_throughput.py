"""Hub ticket throughput over MQTT with SQLite FULL, against a bare SQLite FULL insert loop.

    .venv/bin/python bench/ticket_throughput.py [--tickets 5000] [--kiosks 8] [--postgresql]

--postgresql: the hub on PostgreSQL instead (a fresh database each round on the
machine's server, or a private one: hallsim/postgres.py; commits synchronous), against a
bare loop of one-row transactions on the same server.

Kiosks publish IssueTicket requests (QoS 1), each keeping up to --window requests
unanswered (the broker drops a client's queue past 1,000 messages), and count
the hub's replies; the hub commits each ticket (in WAL, synchronous=FULL)
before it answers. The bare loop inserts one row per committed transaction in
the same folder. Target: hub / bare >= 0.5.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt  # noqa: E402

from bench.hall import BenchHall, bench_hall  # noqa: E402
from hallsim.postgres import PostgresServer  # noqa: E402
from hub.catalogue import load_catalogue  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.link import new_client  # noqa: E402
from protocol.messages import IssueTicket  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402


def bare_sqlite_rate(folder: Path, n: int) -> float:
    """Rows per second, one committed transaction each, WAL + synchronous=FULL."""
    db = sqlite3.connect(folder / "bare.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, request_id TEXT UNIQUE, number TEXT)")
    start = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (request_id, number) VALUES (?, ?)", (str(uuid4()), f"A{i}"))
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    db.close()
    return rate


def bare_postgresql_rate(server: PostgresServer, database: str, n: int) -> float:
    """Rows per second, one committed transaction each (synchronous_commit on)."""
    with server.connect(database) as db:
        db.execute("CREATE TABLE t (id SERIAL PRIMARY KEY, request_id TEXT UNIQUE, number TEXT)")
        start = time.perf_counter()
        for i in range(n):
            with db.transaction():
                db.execute("INSERT INTO t (request_id, number) VALUES (%s, %s)",
                           (str(uuid4()), f"A{i}"))
        return n / (time.perf_counter() - start)


def hub_rate(hall: BenchHall, n: int, kiosks: int, window: int) -> float:
    """Tickets per second from the first request published to the last reply received."""
    done = threading.Event()
    received = 0
    lock = threading.Lock()
    clients = []
    per_kiosk = n // kiosks
    slots = [threading.Semaphore(window) for _ in range(kiosks)]

    def on_reply(client: object, userdata: int, msg: object) -> None:
        nonlocal received
        slots[userdata].release()
        with lock:
            received += 1
            if received == per_kiosk * kiosks:
                done.set()

    def publish_all(k: int, client: mqtt.Client, batch: list[tuple[str, str]]) -> None:
        for topic, payload in batch:
            slots[k].acquire()
            client.publish(topic, payload, qos=1)

    for k in range(kiosks):
        device = f"bench-kiosk-{k}"
        c = new_client(hall.broker.settings_for(DeviceClass.KIOSK), device)
        c.on_message = on_reply
        c.user_data_set(k)
        c.connect("127.0.0.1", hall.broker.port)
        c.subscribe(topics.reply_topic(hall.hall_id, DeviceClass.KIOSK, device), qos=1)
        c.loop_start()
        clients.append((device, c))
    time.sleep(0.5)  # subscriptions in place
    # spread over every service, as a hall's citizens are: queues stay a realistic length
    services = [s.code for s in load_catalogue().all_services()]
    payloads = [[(topics.request_topic(hall.hall_id, DeviceClass.KIOSK, d, "issue_ticket"),
                  IssueTicket(request_id=uuid4(), service=services[i % len(services)])
                  .model_dump_json()) for i in range(per_kiosk)] for d, _ in clients]
    start = time.perf_counter()
    for k, ((_, c), batch) in enumerate(zip(clients, payloads, strict=True)):
        threading.Thread(target=publish_all, args=(k, c, batch), daemon=True).start()
    if not done.wait(300):
        raise SystemExit(f"only {received} of {n} replies")
    rate = per_kiosk * kiosks / (time.perf_counter() - start)
    for _, c in clients:
        c.disconnect()
        c.loop_stop()
    return rate


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tickets", type=int, default=5000)
    p.add_argument("--kiosks", type=int, default=8)
    p.add_argument("--window", type=int, default=50, help="unanswered requests per kiosk")
    p.add_argument("--dir", type=Path, default=None, help="folder (disk) to measure on")
    p.add_argument("--rounds", type=int, default=3, help="fresh hall each round; median shown")
    p.add_argument("--postgresql", action="store_true", help="the hub on PostgreSQL")
    args = p.parse_args()
    print(f"tickets: {args.tickets} from {args.kiosks} kiosks over MQTT (QoS 1), "
          f"up to {args.window} unanswered each; {args.rounds} rounds")
    server = PostgresServer.find_or_start() if args.postgresql else None
    store = "PostgreSQL" if server else "SQLite FULL"
    if server:
        print(f"PostgreSQL at {server.url}" + (" (private)" if server.private_dir else ""))
    ratios = []
    try:
        for r in range(args.rounds):
            if server is None:
                with bench_hall(args.dir) as hall:
                    hub = hub_rate(hall, args.tickets, args.kiosks, args.window)
                    bare = bare_sqlite_rate(hall.workdir, args.tickets)
            else:
                database = server.create_database(server.new_name(), durable=True)
                try:
                    with bench_hall(args.dir, db_url=server.sqlalchemy_url(database)) as hall:
                        hub = hub_rate(hall, args.tickets, args.kiosks, args.window)
                    bare = bare_postgresql_rate(server, database, args.tickets)
                finally:
                    server.drop_database(database)
            ratios.append((hub / bare, hub, bare))
            print(f"round {r + 1}: hub {hub:6.0f} tickets/s, bare {store} {bare:6.0f} rows/s, "
                  f"ratio {hub / bare:.2f}")
    finally:
        if server is not None:
            server.stop()
    ratio, hub, bare = sorted(ratios)[len(ratios) // 2]
    print(f"hub over MQTT, {store}: {hub:8.0f} tickets/s  (median round)")
    print(f"bare {store} inserts:   {bare:8.0f} rows/s")
    print(f"ratio hub/bare:             {ratio:8.2f}   (target >= 0.5)")


if __name__ == "__main__":
    main()
