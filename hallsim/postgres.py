"""A PostgreSQL server for the tests and benchmarks: the machine's own, or a private one.

The machine's server is used when one answers on 127.0.0.1:5432 and lets `postgres` in
without a password (trust, as on a developer's or CI's machine that has one), or the one
HALLQ_TEST_POSTGRES names (`postgresql://user:password@host:port`, a superuser's).
Otherwise, or with HALLQ_TEST_POSTGRES=private, a private server is started, as
tests/conftest.py starts its own Mosquitto: initdb and pg_ctl of Debian's postgresql
package in a temporary folder, on a free loopback port, as the `postgres` user when we
are root (initdb refuses root), without fsync (test data), and removed at the end.

Every database made here has a name of its own (`hallq_test_<pid>_<random>_<n>`) and is
dropped after use, so nothing depends on, or leaves, state in the machine's server.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hallsim.broker import free_port

MACHINE = "postgresql://postgres@127.0.0.1:5432"
# The order of text as on SQLite (bytewise), whatever the server's own locale is.
CREATE_OPTIONS = "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"


def driver_installed() -> bool:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


def _binary(name: str) -> str | None:
    """initdb and pg_ctl of the newest installed version (Debian keeps them off PATH)."""
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if found:
        return max(found, key=lambda p: int(re.sub(r"\D", "", Path(p).parts[4]) or 0))
    return shutil.which(name)


def _server_user() -> dict[str, Any]:
    """subprocess arguments that run a private server as `postgres` when we are root."""
    if os.geteuid() != 0:
        return {}
    pg = pwd.getpwnam("postgres")  # Debian's postgresql package makes this user
    return {"user": pg.pw_uid, "group": pg.pw_gid, "extra_groups": []}


def _connect(url: str, dbname: str = "postgres") -> Any:
    import psycopg
    return psycopg.connect(f"{url}/{dbname}", autocommit=True, connect_timeout=3)


def answers(url: str) -> bool:
    """Does a server at `url` (no database part) let us in?"""
    try:
        _connect(url).close()
    except Exception:
        return False
    return True


def can_have_server() -> bool:
    """A server can be had: the driver is installed and a server answers or can be started."""
    if not driver_installed():
        return False
    wanted = os.environ.get("HALLQ_TEST_POSTGRES")
    if wanted == "private":
        return _binary("initdb") is not None
    if wanted:
        return True  # asked for: if it does not answer, that is an error worth seeing
    return answers(MACHINE) or _binary("initdb") is not None


class PostgresServer:
    """A server to make (and drop) databases on: `url` is `postgresql://user@host:port`."""

    def __init__(self, url: str, private_dir: Path | None = None,
                 bindir: Path | None = None) -> None:
        self.url = url
        self.private_dir = private_dir  # set when we started it ourselves …
        self._bindir = bindir  # … with the pg_ctl in here
        self._admin: Any = None
        self._cleaners: dict[str, Any] = {}  # database name: our connection to it
        self._names = 0
        self.session = f"hallq_test_{os.getpid()}_{secrets.token_hex(3)}"

    # ------------------------------------------------------------ finding or starting one

    @classmethod
    def find_or_start(cls) -> PostgresServer:
        wanted = os.environ.get("HALLQ_TEST_POSTGRES")
        if wanted == "private":
            return cls.start_private()
        if wanted:
            url = wanted.removesuffix("/").replace("postgresql+psycopg://", "postgresql://")
            if not answers(url):
                raise RuntimeError(f"HALLQ_TEST_POSTGRES={wanted} does not answer")
            return cls(url)
        if answers(MACHINE):
            return cls(MACHINE)
        return cls.start_private()

    @classmethod
    def start_private(cls) -> PostgresServer:
        initdb = _binary("initdb")
        if initdb is None:
            raise RuntimeError("no PostgreSQL server answers on 127.0.0.1:5432 and none is "
                               "installed to start (./hallq setup installs Debian's postgresql)")
        bindir = Path(initdb).resolve().parent
        root = Path(tempfile.mkdtemp(prefix="hallq-pg-"))
        as_user = _server_user()
        if as_user:
            os.chown(root, as_user["user"], as_user["group"])
        data, log = root / "data", root / "server.log"
        env = {**os.environ, "LC_ALL": "C"}
        port = free_port()
        try:
            subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                            "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                           check=True, capture_output=True, cwd=root, env=env, **as_user)
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                            "-t", "60", "-o", options, "start"],
                           check=True, capture_output=True, cwd=root, env=env, **as_user)
        except subprocess.CalledProcessError as exc:
            text = (exc.stderr or b"").decode(errors="replace")
            if log.exists():
                text += log.read_text(errors="replace")
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"could not start a private PostgreSQL: {text[-2000:]}") from None
        return cls(f"postgresql://postgres@127.0.0.1:{port}", private_dir=root, bindir=bindir)

    def stop(self) -> None:
        """Close our connections; a private server is stopped and its folder removed."""
        for conn in self._cleaners.values():
            conn.close()
        self._cleaners.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.private_dir is None or self._bindir is None:
            return
        subprocess.run([str(self._bindir / "pg_ctl"), "-D", str(self.private_dir / "data"),
                        "-m", "immediate", "-w", "stop"],
                       capture_output=True, cwd=self.private_dir, **_server_user())
        shutil.rmtree(self.private_dir, ignore_errors=True)
        self.private_dir = None

    # ------------------------------------------------------------ databases

    def sqlalchemy_url(self, database: str) -> str:
        """The hub's `db_url` for a database on this server."""
        return f"{self.url.replace('postgresql://', 'postgresql+psycopg://', 1)}/{database}"

    def new_name(self) -> str:
        """A database name nobody else uses: this run's, numbered."""
        self._names += 1
        return f"{self.session}_{self._names}"

    def _execute(self, sql: str) -> None:
        if self._admin is None or self._admin.closed:
            self._admin = _connect(self.url)
        self._admin.execute(sql)

    def create_database(self, name: str, template: str | None = None, *,
                        durable: bool = False) -> str:
        """An empty UTF-8 database (bytewise text order), or a copy of `template`. Unless
        `durable` (benchmarks), its commits do not wait for the disk (synchronous_commit
        off, this database's own setting): test data, and the machine's server fsyncs."""
        if template is None:
            self._execute(f'CREATE DATABASE "{name}" {CREATE_OPTIONS}')
        else:
            self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        if not durable:
            self._execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        return name

    def connect(self, name: str) -> Any:
        """A psycopg connection (autocommit) to one of the databases."""
        return _connect(self.url, name)

    def drop_database(self, name: str) -> None:
        """Gone, with whatever connections were still open to it."""
        cleaner = self._cleaners.pop(name, None)
        if cleaner is not None:
            cleaner.close()
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def empty_tables(self, name: str, tables: list[str]) -> None:
        """Back to a just-migrated database, in one round trip: the other connections to it
        ended (a test's engines left open), the rows of `tables` deleted (children before
        parents), every sequence back at 1. Some hundredths of a second where a new
        database costs tenths (CREATE DATABASE writes all its pages to the WAL, and DROP
        DATABASE waits for a checkpoint)."""
        conn = self._cleaners.get(name)
        if conn is None or conn.closed:
            conn = self._cleaners[name] = self.connect(name)
        conn.execute(";".join([
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            *(f'DELETE FROM "{t}"' for t in tables),
            "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'",
        ]))

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
