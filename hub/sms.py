"""Text messages to citizens (booking confirmations, the no-show warning, the blacklist).

The database is the outbox: `send_sms` records each message in `sms_messages` in the
transaction that caused it, so a message is never sent for something that did not happen
nor lost for something that did. The default gateway stops there: the dashboard lists the
messages. A real SMS gateway (a province's, a carrier's) plugs in as an `SmsGateway`
that `deliver_pending` hands the unsent ones to, marking each sent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, insert, select, update

from hub.db.schema import sms_messages

log = logging.getLogger(__name__)


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> bool:
        """Send one message; True once the gateway has taken it."""
        ...


def send_sms(conn: Connection, phone: str, kind: str, text: str,
             appointment_id: str | None, now: datetime) -> None:
    """Record a message to send (in the caller's transaction)."""
    conn.execute(insert(sms_messages).values(phone=phone, kind=kind, text=text,
                                             appointment_id=appointment_id, created_at=now))
    log.info("SMS (%s) queued for appointment %s", kind, appointment_id)


def deliver_pending(conn: Connection, gateway: SmsGateway, now: datetime,
                    limit: int = 100) -> int:
    """Hand unsent messages to a real gateway, oldest first; how many it took."""
    rows = conn.execute(select(sms_messages.c.id, sms_messages.c.phone, sms_messages.c.text)
                        .where(sms_messages.c.sent_at.is_(None))
                        .order_by(sms_messages.c.id).limit(limit)).all()
    sent = 0
    for row in rows:
        if gateway.send(row.phone, row.text):
            conn.execute(update(sms_messages).where(sms_messages.c.id == row.id)
                         .values(sent_at=now))
            sent += 1
    return sent
