"""Tables of the hub (SQLAlchemy Core). Alembic migrations must match this exactly."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

services = Table(
    "services",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(10), nullable=False),  # item | bundle (一件事)
    Column("department_code", String(8), nullable=False),
    Column("department_name", String(100), nullable=False),
    Column("prefix", String(2), nullable=False),
    Column("conditions", JSON, nullable=False),
    Column("materials", JSON, nullable=False),
    Column("bundle_items", JSON, nullable=False),
    Column("legal_days", Integer, nullable=False),
    Column("promised_days", Integer, nullable=False),
    Column("fee", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    # set when a manager edited the item's 一次性告知 (conditions, materials, fee, days) on
    # the dashboard: from then on the database, not the catalogue file, decides those
    Column("edited_at", DateTime, nullable=True),
    # 放号量: kiosk tickets a day at most (None: no cap)
    Column("daily_cap", Integer, nullable=True),
    # set when a manager changed the item's name, ticket letter or daily cap on the
    # dashboard (hub/item_setup.py): from then on the database decides those three
    Column("setup_edited_at", DateTime, nullable=True),
)

windows = Table(
    "windows",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # closed | open | serving | paused | away
    Column("serving_ticket_id", Integer, nullable=True),  # no FK: tickets already refer here
    Column("call_seq", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("post_a", String(16), nullable=True),  # staff numbers of the A and B posts
    Column("post_b", String(16), nullable=True),
    Column("on_duty", String(16), nullable=True),  # who signed in at the window
    Column("pause_reason", String(40), nullable=True),
    Column("away_post", String(1), nullable=True),
    Column("paused_since", DateTime, nullable=True),
    # set when a manager changed the window's services while the hall ran: from then on the
    # database, not the catalogue file, decides them (hub/window_matrix.py)
    Column("services_edited_at", DateTime, nullable=True),
    Column("posts_edited_at", DateTime, nullable=True),  # A/B posts set by a manager
)

# A window that is not closed is staffed, though maybe for a moment not calling.
WINDOW_STAFFED = windows.c.status != "closed"

# Every pause (暂停服务) and absence (A/B post away) of a window: away time is a scored figure.
window_absences = Table(
    "window_absences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("window_number", Integer, ForeignKey("windows.number"), nullable=False),
    Column("kind", String(5), nullable=False),  # pause | away
    Column("post", String(1), nullable=True),
    Column("reason", String(40), nullable=True),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),
    Index("ix_window_absences_window", "window_number", "started_at"),
)

window_services = Table(
    "window_services",
    metadata,
    Column("window_number", Integer, ForeignKey("windows.number"), primary_key=True),
    Column("service_code", String(32), ForeignKey("services.code"), primary_key=True),
)

# One row per ticket prefix per service day: the last number given.
number_counters = Table(
    "number_counters",
    metadata,
    Column("prefix", String(2), primary_key=True),
    Column("service_day", Date, primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", String(36), nullable=False, unique=True),
    Column("device_id", String(32), nullable=False),
    Column("service_code", String(32), ForeignKey("services.code"), nullable=False),
    Column("prefix", String(2), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("number", String(8), nullable=False),
    Column("service_day", Date, nullable=False),
    # pending (numbered, not yet in hand) | waiting | called | finished | no_show
    # | closed (left at the end of the day) | void (reached nobody: never called)
    Column("status", String(10), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("called_at", DateTime, nullable=True),
    Column("finished_at", DateTime, nullable=True),
    Column("recalls", Integer, nullable=False, server_default="0"),
    Column("no_show_at", DateTime, nullable=True),
    # set by a transfer to a window: only that window calls the ticket
    Column("target_window", Integer, nullable=True),
    Column("priority", String(10), nullable=True),  # 老弱病残孕军 group, from the guide desk
    Column("wait_seconds", Integer, nullable=True),  # issue → first call
    Column("service_seconds", Integer, nullable=True),  # last call → finish
    Column("closed_reason", String(40), nullable=True),  # why a ticket was closed unserved
    Column("window_number", Integer, ForeignKey("windows.number"), nullable=True),
    # no ghost tickets: how the citizen got it (printed | screen | phone | unsure), and when
    Column("handed_over", String(8), nullable=True),
    Column("confirmed_at", DateTime, nullable=True),
    # the appointment checked in with this ticket (hub/handlers/check_in.py): one ticket each
    Column("appointment_id", String(32), nullable=True),
    UniqueConstraint("prefix", "service_day", "seq", name="uq_tickets_number"),
    Index("ix_tickets_queue", "service_day", "status", "service_code", "issued_at"),
    Index("ix_tickets_call_order", "service_day", "status", "priority", "issued_at"),
    # partial: walk-ins (NULL) cost this index nothing on the issue path
    Index("ix_tickets_appointment", "appointment_id", unique=True,
          sqlite_where=text("appointment_id IS NOT NULL"),
          postgresql_where=text("appointment_id IS NOT NULL")),
)

# Every request the hub has answered, with its answer: a replay gets the same reply.
requests = Table(
    "requests",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("device_id", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reply", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# A finished ticket becomes a case: the record a review attaches to (五件制 outcome).
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, unique=True),
    Column("service_code", String(32), ForeignKey("services.code"), nullable=False),
    Column("window_number", Integer, ForeignKey("windows.number"), nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("promised_date", Date, nullable=True),  # 承诺件: in working days
    Column("reason", Text, nullable=True),  # 退办件: the written reason
    Column("missing", JSON, nullable=False),  # 补正: materials listed in the one-time notice
    Column("departments", JSON, nullable=False),  # 联办件: the other departments
    Column("staff_no", String(16), nullable=True),  # who handled it (signed in at the window)
    Column("finished_at", DateTime, nullable=False),
    Index("ix_cases_finished", "finished_at"),  # the figures and rankings of a period
)

# Managers' corrections to the national calendar, and next year's days before the
# chinesecalendar package knows them (published each November).
calendar_overrides = Table(
    "calendar_overrides",
    metadata,
    Column("day", Date, primary_key=True),
    Column("is_workday", Boolean, nullable=False),
    Column("note", String(100), nullable=False),
)

# A ticket's history after its issue (which the ticket row itself records): every
# call, recall, no-show, call back, transfer and finish, in order.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("event", String(12), nullable=False),
    Column("window_number", Integer, nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_ticket_events_ticket", "ticket_id", "id"),
)

# Window staff and their staff cards; PINs only as salted hashes (hub/pins.py).
staff = Table(
    "staff",
    metadata,
    Column("number", String(16), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("department_code", String(8), nullable=False),
    Column("department_name", String(100), nullable=False),
    Column("title", String(50), nullable=False),
    Column("photo", String(200), nullable=False),
    Column("pin_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    # set when a manager added or edited this person on the dashboard: the catalogue file
    # no longer changes or removes them
    Column("edited_at", DateTime, nullable=True),
)

# Secrets of the hall, made at first start and kept with its data: the keys that sign
# ticket-page links and appointment codes and hash ID numbers (never stored in clear).
hall_keys = Table(
    "hall_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("secret", String(128), nullable=False),  # hex
    Column("created_at", DateTime, nullable=False),
)

# 一事一评: at most one review per case, whichever channel comes first.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, unique=True),
    Column("grade", String(16), nullable=False),
    Column("stars", Integer, nullable=False),
    Column("reason", String(40), nullable=True),
    Column("channel", String(12), nullable=False),  # window (the evaluator)
    Column("window_number", Integer, ForeignKey("windows.number"), nullable=False),
    Column("service_code", String(32), ForeignKey("services.code"), nullable=False),
    Column("staff_no", String(16), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_reviews_created", "created_at"),  # the latest reviews, a period's rates
)

# 预约: appointments booked on a phone, by staff or through the API. The person is kept
# as hub/identity.py allows: the ID number only as a keyed hash (and masked), the name
# masked, the mobile number for the SMS messages.
appointments = Table(
    "appointments",
    metadata,
    Column("id", String(32), primary_key=True),  # random (hub/appointment_codes.py)
    Column("service_code", String(32), ForeignKey("services.code"), nullable=False),
    Column("day", Date, nullable=False),
    Column("slot_start", Time, nullable=False),  # the hall's local time
    Column("slot_end", Time, nullable=False),
    # booked; pending (out of hours, until staff confirm); refused; cancelled; checked_in;
    # no_show; excused (a no-show the hall caused, voided by a manager)
    Column("status", String(12), nullable=False),
    Column("channel", String(8), nullable=False),  # web, phone, desk, api
    Column("out_of_hours", Boolean, nullable=False),
    Column("id_hash", String(64), nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("name_masked", String(24), nullable=False),
    Column("phone", String(11), nullable=False),
    Column("form", JSON, nullable=True),  # 预约登记表 of an out-of-hours booking
    Column("created_at", DateTime, nullable=False),
    Column("changed_at", DateTime, nullable=False),  # the last change of status
    Column("note", String(200), nullable=True),  # why refused, cancelled or excused
    Index("ix_appointments_slot", "service_code", "day", "slot_start", "status"),
    Index("ix_appointments_person", "id_hash", "day"),
    Index("ix_appointments_due", "status", "day", "slot_end"),
)

# 预约黑名单: a person (by keyed ID hash) with no appointment service for a year.
blacklist = Table(
    "blacklist",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("id_hash", String(64), nullable=False, index=True),
    Column("id_masked", String(18), nullable=False),
    Column("name_masked", String(24), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=False),  # the first day booking opens again
    Column("created_at", DateTime, nullable=False),
    Column("lifted_at", DateTime, nullable=True),  # a manager lifted it …
    Column("lifted_by", String(50), nullable=True),
    Column("lift_reason", String(200), nullable=True),  # … with a written reason
    # city mode (hub/city_sync.py): the city's change number last applied to this entry, and
    # the hall whose no-show completed it; both None for a ban of this hall's own records
    Column("city_seq", Integer, nullable=True, index=True),
    Column("city_hall", String(32), nullable=True),
)

# Text messages to citizens, through hub/sms.py: the default gateway only records them
# here (the dashboard lists them); a real gateway marks them sent.
sms_messages = Table(
    "sms_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("phone", String(11), nullable=False),
    Column("kind", String(16), nullable=False),  # booked, warning, blacklisted, refused …
    Column("text", String(300), nullable=False),
    Column("appointment_id", String(32), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
)

# Every change a manager makes by hand (lifting a blacklisting, excusing a no-show,
# confirming an out-of-hours booking): who, when, what, before and after, and why.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("who", String(50), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(64), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("reason", String(200), nullable=True),
)

# 差评整改 (谁办理、谁负责): each bad review followed up by the handling department to a
# result within a deadline, or appealed (a mistaken or malicious review) and decided.
review_followups = Table(
    "review_followups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, unique=True),
    Column("department_code", String(8), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("deadline", Date, nullable=False),  # the last working day for the result
    Column("callback", Text, nullable=True),  # 回访: what the person said when called back
    Column("investigation", Text, nullable=True),  # 调查核实
    Column("handling", Text, nullable=True),  # 处理
    Column("measures", Text, nullable=True),  # 整改措施
    Column("result", Text, nullable=True),  # 整改结果: the follow-up is closed with it
    Column("closed_at", DateTime, nullable=True),
    Column("appeal", Text, nullable=True),  # 申诉: why the review is mistaken or malicious
    Column("appeal_decision", String(10), nullable=True),  # upheld, rejected
    Column("appeal_note", Text, nullable=True),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_followups_open", "closed_at", "deadline"),
)

# What goes up to the provincial 好差评 system (hub/forwarder.py): written in the
# transaction of the review or follow-up result, sent in order, retried with backoff,
# each with its idempotency key so that the province applies it once.
forward_outbox = Table(
    "forward_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),  # review:12, followup:3:result
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    Column("last_error", String(200), nullable=True),
    Index("ix_forward_due", "sent_at", "id"),
)

# City mode: what goes to the city service (hub/city_sync.py), written in the transaction
# of the change itself; ids only grow (AUTOINCREMENT): they are the order the city applies.
city_outbox = Table(
    "city_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(32), nullable=False, unique=True),  # the city applies it once
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    Index("ix_city_outbox_due", "sent_at", "id"),
    sqlite_autoincrement=True,
)

# 周通报: the points managers give each 窗口单位 (department) per week on the items of seed
# 000's score sheet that the data cannot tell (hub/weekly_ranking.py); an item not entered
# keeps its full points. The 好差评 item is computed, never entered.
ranking_scores = Table(
    "ranking_scores",
    metadata,
    Column("week", Date, primary_key=True),  # the Monday
    Column("department_code", String(8), primary_key=True),
    Column("item", String(16), primary_key=True),
    Column("points", Float, nullable=False),
    Column("note", String(200), nullable=False),  # why points were taken off or given
    Column("entered_by", String(50), nullable=False),
    Column("entered_at", DateTime, nullable=False),
)

# The dashboard's accounts (hub/accounts.py): who signs in, with which role, for which
# department. The password only as a slow hash (argon2id); `session_version` rises when
# the password changes or the account is disabled, ending its sessions everywhere.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(50), nullable=False),
    Column("role", String(12), nullable=False),  # admin, manager, department, guide, viewer
    Column("department_code", String(8), nullable=True),  # a department lead's department
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("session_version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("changed_at", DateTime, nullable=False),
)

# Dashboard sessions signed out (hub/web/auth.py): a session lives in its signed cookie, so a
# copy of the cookie would outlive 退出 without this list of the sessions' nonces; a row is
# kept for the longest a session lives (12 hours) and then dropped.
ended_sessions = Table(
    "ended_sessions",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("ended_at", DateTime, nullable=False),
)

# 今日与历史's rollup of each closed service day (hub/history_figures.py), written when the
# hub closes the day (hub/day_close.py): the page reads a year from these, not its tickets.
# A day listed in `history_days` (with tickets or without) has all its rows in the three
# tables below; a day not listed has none there and is counted from `tickets`. Rows only
# for services with tickets issued (neither pending nor void). The data tables are WITHOUT
# ROWID on SQLite: kept in key order (a period is one range), no second copy of the key.
history_days = Table(
    "history_days",
    metadata,
    Column("service_day", Date, primary_key=True),
    Column("rolled_up_at", DateTime, nullable=False),
)

# Per day and service: tickets issued, finished and no-shows; the waits known (called)
# and their sum; the service times of the finished tickets and their sum (seconds).
history_counts = Table(
    "history_counts",
    metadata,
    Column("service_day", Date, primary_key=True),
    Column("service_code", String(32), primary_key=True),
    Column("issued", Integer, nullable=False),
    Column("finished", Integer, nullable=False),
    Column("no_show", Integer, nullable=False),
    Column("waited", Integer, nullable=False),
    Column("wait_sum", Integer, nullable=False),
    Column("served", Integer, nullable=False),
    Column("service_sum", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The distributions of the waits and service times: per day, service and whole minute,
# how many waits and how many service times fell in that minute, and each one's second
# within it, space-separated ("3 17 17 42"; "" for none), so that a P90 is exact to the
# second; a long period reads the counts alone. Both in one row: a year is a quarter
# fewer rows to sum than one row per kind.
history_times = Table(
    "history_times",
    metadata,
    Column("service_day", Date, primary_key=True),
    Column("service_code", String(32), primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("waited", Integer, nullable=False),
    Column("wait_within", Text, nullable=False),
    Column("served", Integer, nullable=False),
    Column("service_within", Text, nullable=False),
    sqlite_with_rowid=False,
)

# Tickets issued per day, service and UTC hour of issue, and how many of them from minute
# 15, 30 and 45 of that hour on (a zone off the whole hour, India's +05:30, places those
# in the next local hour).
history_hours = Table(
    "history_hours",
    metadata,
    Column("service_day", Date, primary_key=True),
    Column("service_code", String(32), primary_key=True),
    Column("utc_hour", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("from_15", Integer, nullable=False),
    Column("from_30", Integer, nullable=False),
    Column("from_45", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# Texts a manager set on the dashboard that outlive a new catalogue file: the main screen's
# complaint line and notices (hub/public_info.py).
hall_texts = Table(
    "hall_texts",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("changed_by", String(50), nullable=False),
)

# Ticket-issuing hours a manager set on the dashboard (hub/hall_hours.py): the hall's
# ("hall", ""), a window's ("window", "3") or an item's ("item", "GA_HJQY"). They replace
# the catalogue file's over restarts and new files until handed back to it (row deleted).
# `hours` is {"workday": [...], "weekend": [...], "holiday": [...]} ("08:30-12:00" spans);
# NULL: the window or item has no hours of its own (the file gave some), it follows the
# hall's or its windows'.
managed_hours = Table(
    "managed_hours",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("key", String(32), primary_key=True),
    Column("hours", JSON, nullable=True),
    Column("changed_at", DateTime, nullable=False),
    Column("changed_by", String(50), nullable=False),
)

# The hall's devices as its managers list them (hub/device_registry.py): which kiosks,
# window callers, screens and guide desks the hall has, by a name people use. The device id
# is the device's MQTT client id, unique on the broker whatever the class.
devices = Table(
    "devices",
    metadata,
    Column("device_id", String(32), primary_key=True),
    Column("device_class", String(10), nullable=False),
    Column("name", String(50), nullable=False, unique=True),
    Column("location", String(50), nullable=False),  # "" when none given
    Column("note", String(200), nullable=False),
    Column("added_at", DateTime, nullable=False),
    Column("added_by", String(50), nullable=False),
)

# When the hub last knew each device to be online (the device's own status messages), kept
# over hub restarts so that 离线 and 今天未上线 are told apart; written by the hub, not by
# managers, for registered devices and others alike.
device_sightings = Table(
    "device_sightings",
    metadata,
    Column("device_class", String(10), primary_key=True),
    Column("device_id", String(32), primary_key=True),
    Column("online_at", DateTime, nullable=False),
)
