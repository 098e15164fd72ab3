"""libfaketime for a child process: its wall clock set to a chosen local time and jumped
while it runs, its monotonic clock left alone (timeouts and waits stay real).

The offset goes through FAKETIME_TIMESTAMP_FILE, read again at every reading of the clock
(FAKETIME_NO_CACHE: with the default cache a jump showed late or not at all in the hub).
Debian's libfaketime 0.9.10 makes Python's time.sleep fail (EINVAL) when the monotonic
clock is left real; Event.wait, select and the sockets' timeouts work, and neither the hub
nor the devices sleep that way.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LIBRARIES = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
SETTLE_S = 0.2  # after a jump, before relying on it
ZONE = ZoneInfo("Asia/Shanghai")


def available() -> bool:
    """Whether libfaketime is installed (Debian: apt-get install faketime)."""
    return bool(LIBRARIES)


class FakeClock:
    """The wall clock of the processes started with `env()`, in the hall's zone."""

    def __init__(self, path: Path, local: datetime) -> None:
        self.path = path
        self.offset = 0
        self.set_local(local)

    def set_local(self, local: datetime) -> None:
        """From now on the clock reads `local` (hall time), running on from there."""
        self._write(round(local.replace(tzinfo=ZONE).timestamp() - time.time()))

    def jump(self, by: timedelta) -> None:
        """Move the clock by `by` (back when negative), as `date -s` or an NTP step does."""
        self._write(self.offset + round(by.total_seconds()))

    def now(self) -> datetime:
        """What the faked clock reads now, in hall time (naive)."""
        return datetime.fromtimestamp(time.time() + self.offset, ZONE).replace(tzinfo=None)

    def env(self) -> dict[str, str]:
        return {"LD_PRELOAD": str(LIBRARIES[0]), "FAKETIME_TIMESTAMP_FILE": str(self.path),
                "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                # its "monotonic fix" of pthread_cond_timedwait made two busy Python threads
                # take 60 s for 0.13 s of work (the GIL's timed waits): the hub's first
                # answer came after 6-15 s. The monotonic clock is real here: not needed.
                "FAKETIME_FORCE_MONOTONIC_FIX": "0"}

    def _write(self, offset: int) -> None:
        self.offset = offset
        spare = self.path.with_suffix(".new")
        spare.write_text(f"{offset:+d}\n")
        os.replace(spare, self.path)  # the child never reads half a file
