"""Links to a ticket's live page on the citizen's phone: signed, so nobody can guess another's.

token = base64url(HMAC-SHA256(the hall's "ticket_page" key, "<ticket id>"), first 16 bytes)
followed by the ticket id: 128 bits nobody can guess, checked with one HMAC and no table.
The link names no person; whoever holds the ticket (its QR code) may follow it.

The key is read once, when the hub starts, in a transaction of its own: a link handed
out always verifies after a restart, and issuing a ticket costs one HMAC and no query.
The issue handler finds the links in its HallContext (`ctx.links`); without them (unit
tests of handlers, tools) a ticket has no link and the kiosk prints its plain code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from sqlalchemy import Engine

from hub.hall_keys import hall_key

KEY_NAME = "ticket_page"
MAC_BYTES = 16
MAC_CHARS = 22  # base64url of 16 bytes, without its "==" padding
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{MAC_CHARS}}}([1-9][0-9]{{0,11}})")


class TicketKey:
    """The hall's ticket-page key, keyed once: signs and checks tokens (HMAC-SHA256)."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)  # copied per token

    def _mac(self, ticket_id: int) -> str:
        mac = self._keyed.copy()
        mac.update(str(ticket_id).encode())
        return base64.urlsafe_b64encode(mac.digest()[:MAC_BYTES])[:MAC_CHARS].decode()

    def token(self, ticket_id: int) -> str:
        """The token of a ticket's page: its signature, then its id."""
        return f"{self._mac(ticket_id)}{ticket_id}"

    def ticket_of(self, token: str) -> int | None:
        """The ticket id a token was made for; None when it is malformed or forged."""
        found = _TOKEN.fullmatch(token)
        if found is None:
            return None
        ticket_id = int(found.group(1))
        if not hmac.compare_digest(token[:MAC_CHARS], self._mac(ticket_id)):
            return None
        return ticket_id


def track_url(base_url: str, token: str) -> str:
    """The address of the page, e.g. http://192.168.1.10:8080/t/<token>."""
    return f"{base_url.rstrip('/')}/t/{token}"


def load_key(engine: Engine, now: datetime) -> TicketKey:
    """The hall's ticket-page key, made and committed on first use."""
    with engine.begin() as conn:
        return TicketKey(hall_key(conn, KEY_NAME, now))


class TicketLinks:
    """The key, read once, and the address phones reach the hub at."""

    def __init__(self, key: TicketKey, base_url: str) -> None:
        self.key = key
        self.base_url = base_url
        self._prefix = track_url(base_url, "")

    def url(self, ticket_id: int) -> str:
        """The page of one ticket."""
        return self._prefix + self.key.token(ticket_id)
