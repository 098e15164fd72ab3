"""The hub of one hall: database, request consumer and dashboard in one process."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from hub import (
    appointment_codes,
    city_sync,
    clock_jumps,
    hall_hours,
    hall_state,
    identity,
    item_setup,
    public_info,
    ticket_links,
)
from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import Clock, ShiftedClock
from hub.consumer import RequestConsumer
from hub.db.engine import dispose, make_engine, migrate
from hub.db.one_hub import DatabaseInUse, DatabaseLock, sqlite_file
from hub.device_watch import DeviceWatch
from hub.forwarder import Forwarder, backlog_warning
from hub.hall_keys import hall_key
from hub.hall_voice import HallVoice
from hub.handlers.reviews import review_on_phone
from hub.handlers.tickets import hand_over_by_phone
from hub.issuing import IssuingRules
from hub.live_settings import LiveSettings
from hub.settings import HubSettings
from hub.state_feed import StateFeed
from hub.storage import is_storage_full
from hub.web import create_web_app
from hub.web.admin_pages import admin_pages
from hub.web.announce_page import announce_page
from hub.web.appointments_page import appointments_page
from hub.web.auth import Auth
from hub.web.booking_pages import BookingPages
from hub.web.desk_page import desk_page
from hub.web.devices_page import devices_page
from hub.web.history_page import history_page
from hub.web.hours_page import hours_page
from hub.web.items_page import items_page
from hub.web.ranking_page import ranking_page
from hub.web.reviews_page import reviews_page
from hub.web.server import WebServer
from hub.web.settings_api import settings_api
from hub.web.settings_pages import settings_pages
from hub.web.staff_page import staff_page
from hub.web.ticket_page import TicketPages
from hub.window_matrix import read_matrix
from hub.work_calendar import WorkCalendar
from protocol.messages import Grade
from protocol.systemd import watch_loop

log = logging.getLogger(__name__)
# The hall's secret keys (hub/hall_keys.py), one per purpose.
KEY_PURPOSES = (appointment_codes.KEY_NAME, identity.KEY_NAME, ticket_links.KEY_NAME,
                "web_session")

NOT_FOR_PHONES = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"}  # loopback or unspecified
CITY_WARN_AFTER_S = 300.0  # the dashboard says the city link is down after this long


def _clock(settings: HubSettings) -> Clock:
    """The hall's clock: the real one, or (demos, simulations) one set to `start_at`,
    running `clock_speed` times as fast from `clock_from` (several hubs in step)."""
    if settings.start_at is None:
        return Clock(settings.timezone)
    clock = ShiftedClock(settings.timezone, settings.start_at, settings.clock_speed)
    if settings.clock_from is not None:
        clock.offset = (datetime.now(UTC).replace(tzinfo=None) - settings.clock_from) \
            * settings.clock_speed
    return clock


class Hub:
    """Everything the hall's server runs; `start()` and `stop()` it."""

    def __init__(self, settings: HubSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        if clock is None:
            clock = _clock(settings)
        self.clock = clock
        self.catalogue = load_catalogue(settings.catalogue)
        self.engine = make_engine(settings.db_url)
        database = sqlite_file(settings.db_url)
        self._lock = DatabaseLock(database) if database is not None else None
        migrate(self.engine)
        full_at_start = None
        try:
            with self.engine.begin() as conn:
                if settings.city_identity_key is not None:  # city mode: one person, one hash
                    city_sync.install_identity_key(
                        conn, settings.city_identity_key.get_secret_value(), self.clock.now())
                sync_catalogue(conn, self.catalogue, self.clock.now())
                for purpose in KEY_PURPOSES:  # made now, so no page makes one on a GET later
                    hall_key(conn, purpose, self.clock.now())
        except OperationalError as exc:  # the disk is full: start, and say so (hub/storage.py)
            if not is_storage_full(exc):
                raise
            full_at_start = self.clock.now()
            log.error("the database's disk is full: the catalogue file is not synced until a "
                      "start with room; serving what the database holds")
        with self.engine.begin() as conn:
            self.calendar = WorkCalendar.load(conn)
            matrix = read_matrix(conn)
            caps = item_setup.read_caps(conn)
            managed_hours = hall_hours.read(conn)
            shown = public_info.read(conn, public_info.PublicInfo(
                self.catalogue.complaint_phone, tuple(self.catalogue.notices)))
            catalogue_state = hall_state.catalogue_state(
                conn, self.catalogue.hall_name,
                [(d.code, d.name) for d in self.catalogue.departments],
                settings.reviews.bad_review_reasons, shown.complaint_phone, shown.notices)
        for year in self.calendar.unknown_years(self.clock.service_day()):
            log.warning("the holidays of %s are not known yet: enter them as calendar overrides "
                        "(working days count Monday-Friday until then)", year)
        self.feed = StateFeed(today=self.clock.service_day)
        if managed_hours:
            log.info("issuing hours set by managers, in place of the catalogue's: %s (/hours "
                     "hands them back to the file)", ", ".join(
                         hall_hours.owner_id(o) for o in sorted(managed_hours)))
        self.issuing = IssuingRules(self.catalogue, self.calendar, matrix,
                                    hall_hours.plan(self.catalogue, managed_hours), caps)
        self.consumer = RequestConsumer(settings, self.engine, self.clock, self.feed.update,
                                        self.calendar, self.issuing, catalogue_state)
        self.consumer.storage_full_since = full_at_start
        self.devices = DeviceWatch(self.engine, self.feed, self.clock, self.consumer.run)
        self.consumer.on_device = self.devices.on_status
        self.live = LiveSettings(self.engine, self.consumer, self.catalogue, self.calendar,
                                 self.issuing, self.clock)
        self.voice = HallVoice(self.engine, self.consumer, self.calendar, self.clock,
                               settings.hall_id)
        ticket_key = ticket_links.load_key(self.engine, self.clock.now())
        self.ticket_pages = TicketPages(self.engine, self.clock, ticket_key,
                                        self.catalogue.hall_name, opened=self._opened_on_phone,
                                        review=self._review_on_phone,
                                        review_reasons=settings.reviews.bad_review_reasons)
        with self.engine.begin() as conn:
            session_key = hall_key(conn, "web_session", self.clock.now())
        auth = Auth(self.engine, self.consumer.run, self.clock, session_key,
                    secure_cookies=(settings.public_url or "").startswith("https://"))
        hall_name = self.catalogue.hall_name
        self.web = create_web_app(
            self.feed, auth, hall_name=hall_name,
            away_limit_minutes=settings.rules.away_limit_minutes,
            alert_wait_minutes=settings.rules.alert_wait_minutes,
            alert_queue_length=settings.rules.alert_queue_length,
            warnings=self.warnings, settings=settings_api(self.live),
            public=[self.ticket_pages.blueprint(),
                    BookingPages(self.consumer.run, lambda: self.consumer.ctx,
                                 lambda: self.consumer.catalogue or catalogue_state
                                 ).blueprint()],
            pages=[appointments_page(self.engine, self.consumer.run, lambda: self.consumer.ctx,
                                     self.clock, hall_name),
                   reviews_page(self.engine, self.consumer.run, lambda: self.consumer.ctx,
                                self.clock, hall_name, settings.reviews),
                   ranking_page(self.engine, self.clock, hall_name, settings.reviews),
                   history_page(self.engine, self.clock, hall_name),
                   admin_pages(self.engine, self.consumer.run, self.clock, hall_name),
                   settings_pages(self.live, hall_name),
                   staff_page(self.live, hall_name),
                   announce_page(self.voice, hall_name),
                   items_page(self.live, hall_name),
                   hours_page(self.live, hall_name),
                   devices_page(self.devices, hall_name),
                   desk_page(self.consumer.run, lambda: self.consumer.ctx, self.catalogue,
                             hall_name)])
        self.http = WebServer(self.web, settings.http_host, settings.http_port)
        self.ticket_base_url = settings.public_url or self.http.url
        # known only now that the server has its port; the consumer's thread starts later
        self.consumer.ctx = replace(self.consumer.ctx, hall_id=settings.hall_id, links=ticket_links
                                    .TicketLinks(ticket_key, self.ticket_base_url),
                                    city=settings.city_url is not None)

        self.forwarder = None if settings.forward_url is None else Forwarder(
            self.engine, self.consumer.run, settings.forward_url, self.clock.now,
            first_backoff_s=settings.forward_first_backoff_s,
            max_backoff_s=settings.forward_max_backoff_s)
        self.city = None if settings.city_url is None or settings.city_token is None else \
            city_sync.CitySync(self.engine, self.consumer.run, settings.hall_id,
                               settings.city_url, settings.city_token.get_secret_value(),
                               self.clock.now, poll_s=settings.city_poll_s,
                               first_backoff_s=settings.city_first_backoff_s,
                               max_backoff_s=settings.city_max_backoff_s)

    def _opened_on_phone(self, ticket_id: int) -> None:
        """A pending ticket's page opened on a phone (paperless): confirm it as 'phone'."""
        now = self.clock.now()
        try:
            if self.consumer.run(lambda conn: hand_over_by_phone(conn, ticket_id, now),
                                 timeout=2.0):
                log.info("ticket %s taken on a phone", ticket_id)
        except TimeoutError:  # no broker now: the kiosk's own confirmation will come
            log.warning("could not confirm ticket %s opened on a phone", ticket_id)

    def _review_on_phone(self, ticket_id: int, grade: Grade, reason: str | None) -> None:
        """A review from the ticket's page, on the hub's request thread like the evaluator's:
        whichever comes first is the case's one review."""
        self.consumer.run(lambda conn: review_on_phone(conn, self.consumer.ctx, ticket_id,
                                                       grade, reason), timeout=3.0)

    def warnings(self) -> list[str]:
        """What managers must act on, shown on top of the dashboard."""
        found = [f"{year}年的法定节假日和调休安排尚未录入：在录入前按周一至周五计算工作日，"
                 "承诺办结日期和取号时间可能不准" for year in
                 self.calendar.unknown_years(self.clock.service_day())]
        if self.city is not None and self.city.failing_since is not None and \
                time.monotonic() - self.city.failing_since > CITY_WARN_AFTER_S:
            found.append("与全市平台的连接中断：预约和评价记录暂存本大厅，恢复后自动补传；"
                         "预约黑名单按最后一次同步的名单执行")
        full_since = self.consumer.storage_full_since
        if full_since is not None:
            found.insert(0, f"服务器存储空间不足（{self.clock.local(full_since):%H:%M}起）："
                         "已暂停取号、叫号和修改，已保存的数据完好；请清理服务器磁盘空间，"
                         "有空间后自动恢复")
        held = clock_jumps.warning(self.clock)
        if held is not None:
            found.append(held)
        if self.forwarder is not None:
            late = backlog_warning(self.forwarder.reader, self.clock.now())
            if late is not None:
                found.append(late)
        return found

    @property
    def dashboard_url(self) -> str:
        return self.http.url

    def start(self) -> None:
        """Serve: DatabaseInUse if another hub already serves from this SQLite file."""
        if self._lock is not None:
            self._lock.acquire()
        self.consumer.start()
        self.http.start()
        if self.forwarder is not None:
            self.forwarder.start()
        if self.city is not None:
            self.city.start()
        log.info("hub of hall %s up; dashboard %s", self.settings.hall_id, self.dashboard_url)
        if self.settings.public_url is None and self.settings.http_host in NOT_FOR_PHONES:
            log.warning("tickets link to %s, which phones cannot open: set HALLQ_HUB_HTTP_HOST "
                        "and HALLQ_HUB_PUBLIC_URL (the hub's address on the hall's Wi-Fi)",
                        self.ticket_base_url)

    def stop(self) -> None:
        if self.forwarder is not None:
            self.forwarder.stop()
        if self.city is not None:
            self.city.stop()
        self.consumer.stop()
        self.devices.close()
        self.http.stop()
        dispose(self.engine)
        if self._lock is not None:
            self._lock.release()


BROKER_WAIT_S = 5.0  # how long `python -m hub` waits for the broker before saying it is ready


def main() -> None:
    """`python -m hub`: run until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    hub = Hub(HubSettings())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        hub.start()
    except DatabaseInUse as err:  # the message on stderr, exit status 1: systemd shows it
        raise SystemExit(f"HallQ hub not started: {err}") from None
    broker = f"{hub.settings.mqtt.host}:{hub.settings.mqtt.port}"
    if hub.consumer.wait_connected(BROKER_WAIT_S):
        print(f"HallQ hub ready; broker {broker} connected; dashboard {hub.dashboard_url}",
              flush=True)
    else:  # the dashboard serves; requests wait in the devices' outboxes until the broker answers
        print(f"HallQ hub ready, but the broker {broker} {hub.consumer.broker_problem} "
              f"(retrying; the devices keep their requests until it serves the hub); "
              f"dashboard {hub.dashboard_url}", flush=True)
    # systemd's watchdog (protocol/systemd.py) is fed while the request and web threads live.
    watch_loop(stop, lambda: hub.consumer._thread.is_alive() and hub.http._thread.is_alive())
    hub.stop()
