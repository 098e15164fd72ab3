"""The audit log: every change a manager makes by hand, with who, when, before and after,
and the written reason, in the same transaction as the change itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from hub.db.schema import audit_log


def record(conn: Connection, now: datetime, who: str, action: str, target: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None,
           reason: str | None = None) -> None:
    conn.execute(insert(audit_log).values(at=now, who=who[:50], action=action[:40],
                                          target=target[:64], before=before, after=after,
                                          reason=(reason or "")[:200] or None))
