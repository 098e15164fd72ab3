"""Bring the database's services and windows in line with the catalogue file at start."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from hub.catalogue import Bundle, Catalogue
from hub.db.schema import services, staff, window_services, windows

log = logging.getLogger(__name__)


# What a manager may change of an item on the dashboard; the file no longer decides them then:
# its 一次性告知 (hub/item_guides.py) and its name, ticket letter and cap (hub/item_setup.py).
MANAGED_ITEM_FIELDS = ("conditions", "materials", "legal_days", "promised_days", "fee")
MANAGED_SETUP_FIELDS = ("name", "prefix", "daily_cap")


def sync_catalogue(conn: Connection, catalogue: Catalogue, now: datetime) -> None:
    """Insert new services and windows, update changed ones, deactivate removed services.

    A window's open/closed state and the ticket it serves survive a restart; only
    its name, kind, services and posts come from the file, and its services and posts
    only until a manager changes them while the hall runs. Likewise an item's 一次性告知
    (MANAGED_ITEM_FIELDS), its name, letter and cap (MANAGED_SETUP_FIELDS) and the staff a
    manager added or edited stay the manager's.
    """
    known = set(conn.scalars(select(services.c.code)))
    told = set(conn.scalars(select(services.c.code).where(services.c.edited_at.is_not(None))))
    set_up = set(conn.scalars(select(services.c.code)
                              .where(services.c.setup_edited_at.is_not(None))))
    in_file = set()
    for s in catalogue.all_services():
        in_file.add(s.code)
        row = {
            "name": s.name,
            "kind": "bundle" if isinstance(s, Bundle) else "item",
            "department_code": s.department,
            "department_name": catalogue.department_name(s.department),
            "prefix": s.prefix,
            "conditions": s.conditions,
            "materials": s.materials,
            "bundle_items": s.items if isinstance(s, Bundle) else [],
            "legal_days": s.legal_days,
            "promised_days": s.promised_days,
            "fee": s.fee,
            "daily_cap": s.daily_cap,
            "active": True,
        }
        if s.code in told:  # a manager's 一次性告知 outlives the file (hub/web/items_page.py)
            for field in MANAGED_ITEM_FIELDS:
                row.pop(field)
        if s.code in set_up:  # … and so do the name, letter and cap a manager set
            for field in MANAGED_SETUP_FIELDS:
                row.pop(field)
        if s.code in known:
            conn.execute(update(services).where(services.c.code == s.code).values(row))
        else:
            conn.execute(insert(services).values(code=s.code, **row))
    if gone := known - in_file:
        log.info("services no longer in the catalogue, deactivated: %s", sorted(gone))
        conn.execute(update(services).where(services.c.code.in_(gone)).values(active=False))

    known_staff = set(conn.scalars(select(staff.c.number)))
    managed = set(conn.scalars(select(staff.c.number).where(staff.c.edited_at.is_not(None))))
    for person in catalogue.staff:
        if person.number in managed:  # added or changed on the dashboard: the manager's
            continue
        row = {"name": person.name, "department_code": person.department,
               "department_name": catalogue.department_name(person.department),
               "title": person.title, "photo": person.photo, "pin_hash": person.pin_hash,
               "active": True}
        if person.number in known_staff:
            conn.execute(update(staff).where(staff.c.number == person.number).values(row))
        else:
            conn.execute(insert(staff).values(number=person.number, **row))
    if gone_staff := known_staff - managed - {p.number for p in catalogue.staff}:
        conn.execute(update(staff).where(staff.c.number.in_(gone_staff)).values(active=False))

    existing = set(conn.scalars(select(windows.c.number)))
    edited = set(conn.scalars(select(windows.c.number)
                              .where(windows.c.services_edited_at.is_not(None))))
    posted = set(conn.scalars(select(windows.c.number)
                              .where(windows.c.posts_edited_at.is_not(None))))
    for w in catalogue.windows:
        if w.number in existing:
            posts = {} if w.number in posted else {"post_a": w.post_a, "post_b": w.post_b}
            conn.execute(
                update(windows).where(windows.c.number == w.number)
                .values(name=w.name, kind=w.kind, **posts)
            )
        else:
            conn.execute(
                insert(windows).values(number=w.number, name=w.name, kind=w.kind, status="closed",
                                       serving_ticket_id=None, call_seq=0, updated_at=now,
                                       post_a=w.post_a, post_b=w.post_b)
            )
        if w.number in edited:  # a manager's choice outlives the file (hub/window_matrix.py)
            log.info("window %s: services set by a manager; the catalogue's list is not applied "
                     "(`./hallq admin matrix reset %s` hands it back to the file)",
                     w.number, w.number)
            continue
        conn.execute(delete(window_services).where(window_services.c.window_number == w.number))
        if w.services:
            conn.execute(insert(window_services),
                         [{"window_number": w.number, "service_code": c} for c in w.services])
