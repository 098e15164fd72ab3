"""Where announcements go: the Pi's speaker through `aplay`, or numbered WAV files."""

from __future__ import annotations

import logging
import subprocess
import threading
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Player(Protocol):
    """Plays one whole WAV file and returns when it has been played."""

    def play(self, wav: bytes) -> None: ...


class AplayPlayer:
    """The Pi's speaker: `aplay -q` (alsa-utils) reading the WAV from its stdin."""

    def __init__(self, device: str | None = None, executable: str = "aplay",
                 timeout_s: float = 60.0) -> None:
        self.command = [executable, "-q", *(["-D", device] if device else []), "-"]
        self.timeout_s = timeout_s

    def play(self, wav: bytes) -> None:
        """Play the WAV and wait for aplay to finish; a failure raises OSError."""
        try:
            done = subprocess.run(self.command, input=wav, capture_output=True,
                                  timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired as e:
            raise OSError(f"{self.command[0]} still playing after {self.timeout_s} s") from e
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip()
            raise OSError(f"{self.command[0]} exited {done.returncode}: {err}")


class WavFilePlayer:
    """Writes each announcement to a numbered WAV in a folder (tests, the demo)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._count = len(self.files)  # a restart goes on numbering, overwrites nothing
        self._lock = threading.Lock()

    def play(self, wav: bytes) -> None:
        """Write the WAV as 0001.wav, 0002.wav, … in the folder."""
        with self._lock:
            self._count += 1
            path = self.folder / f"{self._count:04d}.wav"
        path.write_bytes(wav)
        log.debug("announcement written to %s", path)

    @property
    def files(self) -> list[Path]:
        """The announcements written so far, in order."""
        return sorted(self.folder.glob("[0-9][0-9][0-9][0-9].wav"))


class SilentPlayer:
    """A screen with no speaker: announcements are made and dropped."""

    def play(self, wav: bytes) -> None:
        """Do nothing."""
