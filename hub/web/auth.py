"""Sign-in for the dashboard: every page but the citizens' needs an account.

- Default deny: a request is let through only to an endpoint listed public (the ticket
  and booking pages on phones, static files, /healthz, the sign-in page) or from a
  signed-in account whose role the endpoint allows (`allow`); a change (anything not GET)
  needs its roles named, or it is refused.
- Sessions: Flask-Login on Flask's signed cookie (HttpOnly, SameSite=Lax, Secure when the
  hub is reached over HTTPS), a fresh session at sign-in, 30 minutes idle and 12 hours in
  all; the account's `session_version` ends every session when its password changes or
  it is disabled; 退出 ends the session for good (its nonce in `ended_sessions`), so a
  copy of the cookie taken before does not resume it.
- CSRF: Flask-WTF's token on every dashboard form; the public blueprints take no session
  and are exempt, the settings API answers only to the hub machine (hub/web/settings_api.py).
- Sign-in attempts: 5 failures for one user name, or 20 from one address, within 15
  minutes get 429 for the rest of that time. Each sign-in, failed or not, is audited, and
  a restart reads the counts back from the audit log.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    Request,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature
from sqlalchemy import Connection, Engine, delete, insert, select
from werkzeug.wrappers import Response

from hub import accounts, audit
from hub.accounts import Account, Role
from hub.clock import Clock
from hub.db.engine import make_reader
from hub.db.schema import audit_log, ended_sessions
from hub.sign_in_guard import SignInGuard
from protocol.errors import ErrorCode, UserError

log = logging.getLogger(__name__)
LIMIT_MINUTES = 15  # sign-in failures counted over this long, and locked for as long
IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=12)
F = TypeVar("F", bound=Callable[..., Any])
Run = Callable[[Callable[[Connection], Any]], Any]
ALL_ROLES: tuple[Role, ...] = ("admin", "manager", "department", "guide", "viewer")
# The dashboard's pages in its menu, and who sees them there.
MENU: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("/", "实时大厅", ALL_ROLES),
    ("/history", "今日与历史", ("admin", "manager", "department", "viewer")),
    ("/desk", "导办台", ("admin", "manager", "guide")),
    ("/appointments", "预约管理", ("admin", "manager", "guide", "viewer")),
    ("/reviews", "好差评", ("admin", "manager", "department", "viewer")),
    ("/ranking", "周通报", ("admin", "manager", "department", "viewer")),
    ("/items", "事项与办事指南", ("admin", "manager", "department", "viewer")),
    ("/hours", "办公时间", ALL_ROLES),
    ("/staff", "人员与岗位", ("admin", "manager", "viewer")),
    ("/devices", "设备管理", ALL_ROLES),
    ("/announce", "叫号与广播", ("admin", "manager", "viewer")),
    ("/settings", "设置", ("admin", "manager")),
    ("/audit", "操作日志", ("admin", "manager")),
    ("/accounts", "账号管理", ("admin",)),
)


class SignedIn(UserMixin):  # type: ignore[misc]
    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return str(self.account.id)


def allow(*roles: Role) -> Callable[[F], F]:
    """The roles that may use a view; without it, GET is open to every signed-in role and
    anything else to none."""
    def mark(view: F) -> F:
        view.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view
    return mark


def account() -> Account:
    """Who is signed in (only inside a view the sign-in check let through)."""
    return current_user.account  # type: ignore[no-any-return]


def department_scope() -> str | None:
    """The department a department lead sees; None: every department."""
    a = account()
    return a.department if a.role == "department" else None


def signed_in_role() -> Role | None:
    """The role of whoever is signed in, or None (pages that also serve citizens)."""
    return current_user.account.role if current_user.is_authenticated else None


class HubClockSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, their age judged by the hub alone: Flask would also
    refuse a cookie whose signature time lies ahead of the system clock, so setting the
    clock back an hour signed every manager out. The session's own times (`since`, `seen`)
    on the hub's clock, which holds a jump (hub/clock.py), decide (`Auth._expired`)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value))  # no max_age: see above
        except BadSignature:
            return self.session_class()


class Auth:
    """Installs sign-in, sign-out, session rules, CSRF and the role check on an app."""

    def __init__(self, engine: Engine, run: Run, clock: Clock, secret_key: bytes, *,
                 secure_cookies: bool = False) -> None:
        self.reader = make_reader(engine)
        self.run = run
        self.clock = clock
        self.secret_key = secret_key
        self.secure_cookies = secure_cookies
        self.by_name = SignInGuard(attempts=5, minutes=LIMIT_MINUTES)
        self.by_address = SignInGuard(attempts=20, minutes=LIMIT_MINUTES)
        self.csrf = CSRFProtect()
        self.ended: set[str] = set()  # nonces of sessions signed out since start
        self._recall_failures()

    def _recall_failures(self) -> None:
        """A restart keeps the sign-in limits: each sign-in is audited, so the failures of
        the last minutes come back from the audit log (a success clears its name's)."""
        now = self.clock.now()
        with self.reader.connect() as conn:
            rows = conn.execute(select(audit_log.c.at, audit_log.c.who, audit_log.c.action,
                                       audit_log.c.target)
                                .where(audit_log.c.at > now - timedelta(minutes=LIMIT_MINUTES),
                                       audit_log.c.action.in_(("signin", "signin.failed")))
                                .order_by(audit_log.c.id)).all()
        for row in rows:
            name = "" if row.who == "?" else row.who  # "?": a sign-in with no name
            if row.action == "signin":
                self.by_name.succeeded(name)
            else:
                self.by_name.failed(name, row.at)
                self.by_address.failed(row.target, row.at)

    def install(self, app: Flask, hall_name: str, public: Iterable[Blueprint]) -> None:
        app.config.update(
            SECRET_KEY=self.secret_key, SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=self.secure_cookies,
            SESSION_COOKIE_NAME="hallq_session", PERMANENT_SESSION_LIFETIME=LONGEST,
            WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        )
        app.session_interface = HubClockSessions()
        self.csrf.init_app(app)
        public = list(public)
        public_blueprints = {bp.name for bp in public}
        for blueprint in public:
            self.csrf.exempt(blueprint)
        logins = LoginManager(app)

        @logins.user_loader  # type: ignore[untyped-decorator]
        def load(account_id: str) -> SignedIn | None:
            with self.reader.connect() as conn:
                found = accounts.get(conn, int(account_id))
            if found is None or session.get("v") != found.session_version:
                return None
            if self._ended(str(session.get("nonce", ""))):
                return None  # signed out: this is a copy of the cookie
            return SignedIn(found)

        @app.before_request
        def check() -> Response | tuple[Response | str, int] | None:
            endpoint = request.endpoint or ""
            if endpoint in ("static", "healthz", "signin", "signin_post") or \
                    endpoint.split(".", 1)[0] in public_blueprints:
                return None
            now = self.clock.now()
            if current_user.is_authenticated and self._expired(now):
                logout_user()
                session.clear()
                flash("登录已超时，请重新登录")
            if not current_user.is_authenticated:
                if request.method == "GET" and not request.path.startswith(("/api/", "/events")):
                    return redirect(url_for("signin", next=request.full_path.rstrip("?")))
                return jsonify(ok=False, code="SIGN_IN", message="请先登录"), 401
            session["seen"] = now.timestamp()
            view = app.view_functions.get(endpoint)
            allowed = getattr(view, "allowed_roles", None)
            if allowed is None:
                allowed = ALL_ROLES if request.method in ("GET", "HEAD") else ()
            if account().role not in allowed:
                return render_template("forbidden.html", hall_name=hall_name), 403
            return None

        @app.errorhandler(CSRFError)
        def csrf_refused(err: CSRFError) -> tuple[str, int]:
            return render_template(
                "forbidden.html", hall_name=hall_name,
                message="页面已过期或来源不明（缺少校验码），请刷新页面后重试"), 400

        @app.get("/signin")
        def signin() -> str:
            return render_template("signin.html", hall_name=hall_name, username="",
                                   next=request.args.get("next", "/"))

        @app.post("/signin")
        def signin_post() -> tuple[str, int] | Response:
            username = request.form.get("username", "").strip().lower()[:32]
            password = request.form.get("password", "")[:200]
            target = request.form.get("next", "/")
            address = request.remote_addr or "?"
            now = self.clock.now()
            if self.by_name.locked(username, now) or self.by_address.locked(address, now):
                self._audit(now, username, "signin.limited", address)
                return render_template(
                    "signin.html", hall_name=hall_name, username=username, next=target,
                    error=f"登录失败次数过多，请{LIMIT_MINUTES}分钟后再试"), 429
            with self.reader.connect() as conn:
                found = accounts.verify(conn, username, password)
            if found is None:
                self.by_name.failed(username, now)
                self.by_address.failed(address, now)
                self._audit(now, username, "signin.failed", address)
                return render_template("signin.html", hall_name=hall_name, username=username,
                                       next=target, error="用户名或密码错误"), 401
            self.by_name.succeeded(username)
            session.clear()  # a new session: nothing from before sign-in carries over
            session.permanent = True
            session.update(v=found.session_version, since=now.timestamp(),
                           seen=now.timestamp(), nonce=secrets.token_hex(16))
            login_user(SignedIn(found))
            self._audit(now, username, "signin", address)
            return redirect(target if target.startswith("/") and not target.startswith("//")
                            else "/")

        @app.post("/signout")
        @allow(*ALL_ROLES)
        def signout() -> Response:
            now = self.clock.now()
            self._end_session(now, str(session.get("nonce", "")))
            self._audit(now, account().username, "signout", request.remote_addr or "?")
            logout_user()
            session.clear()
            return redirect(url_for("signin"))

        @app.context_processor
        def who() -> dict[str, Any]:
            signed = current_user.account if current_user.is_authenticated else None
            return {"signed_in": signed,
                    "menu": [(path, name) for path, name, roles in MENU
                             if signed is not None and signed.role in roles]}

    def _expired(self, now: datetime) -> bool:
        seen = float(session.get("seen", 0))
        since = float(session.get("since", 0))
        stamp = now.timestamp()
        return stamp - seen > IDLE.total_seconds() or stamp - since > LONGEST.total_seconds()

    def _ended(self, nonce: str) -> bool:
        """Whether the session with this nonce was signed out (here, or before a restart)."""
        if not nonce or nonce in self.ended:
            return True
        with self.reader.connect() as conn:
            return conn.scalar(select(ended_sessions.c.nonce)
                               .where(ended_sessions.c.nonce == nonce)) is not None

    def _end_session(self, now: datetime, nonce: str) -> None:
        """Sign the session out for good: at once in memory, and in the database for after a
        restart (the rows of sessions that would have expired anyway are dropped)."""
        self.ended.add(nonce)

        def job(conn: Connection) -> None:
            conn.execute(delete(ended_sessions)
                         .where(ended_sessions.c.ended_at < now - LONGEST))
            conn.execute(insert(ended_sessions).values(nonce=nonce[:32], ended_at=now))
        try:
            self.run(job)
        except TimeoutError:
            log.warning("signed-out session kept in memory only (hub not serving)")

    def _audit(self, now: datetime, username: str, action: str, address: str) -> None:
        """A sign-in's audit line; when the hub is not serving (no broker) it goes to the
        log instead, so that managers can still sign in and see the hall."""
        try:
            self.run(lambda conn: audit.record(conn, now, username or "?", action, address,
                                               None, None))
        except TimeoutError:
            log.warning("audit %s of %s from %s not written (hub not serving): logged here",
                        action, username, address)
        except UserError as err:  # the disk is full: the dashboard says so once signed in
            if err.code != ErrorCode.STORAGE_FULL:
                raise
            log.warning("audit %s of %s from %s not written (disk full): logged here",
                        action, username, address)

