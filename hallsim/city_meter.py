"""What the city simulation measures of its processes (CPU seconds, memory) and of the
halls' and the city's databases, read from outside as an operator would."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def memory_kb(pid: int) -> tuple[int, int]:
    """(resident now, peak resident) in kB; (0, 0) when the process is gone."""
    found = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


@dataclass
class Group:
    """Processes of one kind (hubs, brokers, the city): CPU used and memory."""

    cpu_s: float = 0.0
    rss_kb: list[int] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)


class Meter:
    """CPU and memory of the simulation's processes, by group; a process that is killed
    mid-run is read just before (`retire`)."""

    def __init__(self) -> None:
        self.start_cpu: dict[int, float] = {}
        self.group_of: dict[int, str] = {}
        self.groups: dict[str, Group] = {}

    def watch(self, pid: int, group: str) -> None:
        self.start_cpu[pid] = cpu_seconds(pid)
        self.group_of[pid] = group
        self.groups.setdefault(group, Group())

    def retire(self, pid: int) -> None:
        """Count what a process used so far; it is about to end."""
        group = self.groups[self.group_of.pop(pid)]
        group.cpu_s += cpu_seconds(pid) - self.start_cpu.pop(pid)
        group.peak_kb.append(memory_kb(pid)[1])

    def read(self) -> dict[str, Group]:
        """Every group now (the processes still running are read, not retired)."""
        found = {name: Group(g.cpu_s, [], list(g.peak_kb)) for name, g in self.groups.items()}
        for pid, name in self.group_of.items():
            rss, peak = memory_kb(pid)
            found[name].cpu_s += cpu_seconds(pid) - self.start_cpu[pid]
            found[name].rss_kb.append(rss)
            found[name].peak_kb.append(peak)
        return found


@contextmanager
def hall_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a hall's SQLite file while its hub runs (WAL: no lock)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def unsent(path: Path, up_to: int | None = None) -> int:
    """Entries of the hall's city outbox not yet taken by the city (those up to an id)."""
    with hall_db(path) as conn:
        if up_to is None:
            return int(conn.execute("SELECT count(*) FROM city_outbox WHERE sent_at IS NULL")
                       .fetchone()[0])
        return int(conn.execute("SELECT count(*) FROM city_outbox WHERE sent_at IS NULL "
                                "AND id <= ?", (up_to,)).fetchone()[0])


def last_outbox_id(path: Path) -> int:
    with hall_db(path) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM city_outbox").fetchone()[0])
