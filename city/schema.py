"""Tables of the city service (SQLAlchemy Core, PostgreSQL only).

Made with `metadata.create_all` at start (city/app.py), not Alembic: the service is new
and has no deployed versions to upgrade, and create_all makes only what is missing. The
first change to an existing table adds a migration folder with this schema as its base
(docs/scaling.md, "The city's schema").
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Time,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The halls that have synced: what they sent, and when they were last heard from.
halls = Table(
    "halls",
    metadata,
    Column("hall_id", String(32), primary_key=True),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("events", BigInteger, nullable=False),  # applied
    Column("duplicates", BigInteger, nullable=False),  # resent, recognised, not applied again
    Column("last_seq", BigInteger, nullable=False),  # the highest outbox number received
)

# Every event of every hall, once (its id is the primary key): the city's record.
events = Table(
    "events",
    metadata,
    Column("event_id", String(32), primary_key=True),
    Column("hall_id", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),  # the hall's outbox order
    Column("kind", String(16), nullable=False),
    Column("at", DateTime, nullable=False),  # when it happened, the hall's clock (UTC)
    Column("received_at", DateTime, nullable=False),  # the city's clock (UTC)
    Column("lag_s", Float, nullable=True),  # the hall's commit to the city's, both clocks
    Column("payload", JSONB, nullable=False),
    Index("ix_events_hall_seq", "hall_id", "seq"),
)

# Every hall's bookings as they stand (the latest event of each wins, in the hall's order).
appointments = Table(
    "appointments",
    metadata,
    Column("hall_id", String(32), primary_key=True),
    Column("appointment_id", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # the event that set this state
    Column("id_hash", String(64), nullable=False),
    Column("service", String(32), nullable=False),
    Column("day", Date, nullable=False),
    Column("slot_start", Time, nullable=False),
    Column("slot_end", Time, nullable=False),
    Column("status", String(12), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("id_masked", String(18), nullable=True),  # with a no-show only
    Column("name_masked", String(24), nullable=True),
    Column("changed_at", DateTime, nullable=False),
    Index("ix_appointments_person", "id_hash", "status"),
)

# The city's review record (好差评): every hall's reviews, never the reviewer.
reviews = Table(
    "reviews",
    metadata,
    Column("hall_id", String(32), primary_key=True),
    Column("review_id", Integer, primary_key=True),
    Column("case_id", Integer, nullable=False),
    Column("number", String(8), nullable=False),
    Column("service", String(32), nullable=False),
    Column("service_name", String(100), nullable=False),
    Column("window", Integer, nullable=False),
    Column("staff_no", String(16), nullable=True),
    Column("grade", String(16), nullable=False),
    Column("stars", Integer, nullable=False),
    Column("reason", String(100), nullable=True),
    Column("channel", String(12), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_created", "created_at"),
)

# The city-wide blacklist: one entry per person (hash) and first day; `seq` numbers every
# change city-wide, in commit order (city/ledger.py), so a hall asks "what after N".
blacklist_seq = Sequence("blacklist_seq", metadata=metadata)
blacklist = Table(
    "blacklist",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("id_hash", String(64), nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("name_masked", String(24), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=False),  # the first day booking opens again
    Column("hall_id", String(32), nullable=False),  # the hall of the no-show that completed it
    Column("appointment_id", String(32), nullable=False),  # … and that booking
    Column("created_at", DateTime, nullable=False),
    Column("lifted_at", DateTime, nullable=True),
    Column("lifted_by", String(80), nullable=True),  # "<hall>: <who>" or "excused no-show"
    Column("lift_reason", String(200), nullable=True),
    UniqueConstraint("id_hash", "since", name="uq_blacklist_person_since"),
)
