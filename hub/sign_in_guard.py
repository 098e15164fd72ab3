"""Too many wrong PINs for one staff number lock it for a while (kept in memory)."""

from __future__ import annotations

from datetime import datetime, timedelta


class SignInGuard:
    """Five wrong PINs within five minutes lock the staff number for five minutes."""

    def __init__(self, attempts: int = 5, minutes: int = 5) -> None:
        self.attempts = attempts
        self.window = timedelta(minutes=minutes)
        self._failures: dict[str, list[datetime]] = {}

    def locked(self, staff_no: str, now: datetime) -> bool:
        recent = [t for t in self._failures.get(staff_no, []) if now - t < self.window]
        self._failures[staff_no] = recent
        return len(recent) >= self.attempts

    def failed(self, staff_no: str, now: datetime) -> None:
        self._failures.setdefault(staff_no, []).append(now)

    def succeeded(self, staff_no: str) -> None:
        self._failures.pop(staff_no, None)
