"""The hall's secret keys: made once, at first use, and kept in the hub's database.

Each purpose has its own key (a leaked ticket-page key must not sign appointments).
They sign what citizens carry (the ticket page link, appointment QR codes) and key
the hashes of ID numbers, so the database backup is what must be protected. A city
that shares one blacklist needs one key across its halls: that comes with city mode.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select

from hub.db.schema import hall_keys


def hall_key(conn: Connection, name: str, now: datetime) -> bytes:
    """The key for `name` (e.g. "ticket_page"), made on first use; 32 random bytes."""
    found = conn.scalar(select(hall_keys.c.secret).where(hall_keys.c.name == name))
    if found is None:
        found = secrets.token_hex(32)
        conn.execute(insert(hall_keys).values(name=name, secret=found, created_at=now))
    return bytes.fromhex(found)
