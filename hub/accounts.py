"""The dashboard's accounts: who may sign in, with which role, for which department.

Roles (issue 9), from most to least:
- admin (系统管理员): everything, and the accounts themselves;
- manager (中心管理人员): runs the hall: settings, appointments, reviews, rankings;
- department (部门负责人): its own department's reviews, follow-ups and ranking;
- guide (导办台): the live hall, priority tickets, appointments checked in at the desk;
- viewer (只读): sees the pages, changes nothing.

Passwords: at least 8 characters, not one of the most used (hub/data/common-passwords.txt),
not the user name; kept only as an argon2id hash (argon2-cffi's defaults, ~0.1 s here). No
account exists until the first is made on the hub machine (`./hallq admin accounts add`):
there is no default password. Every change goes into the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, func, insert, select, update

from hub import audit, hall_state
from hub.db.schema import accounts
from protocol.errors import ErrorCode, UserError

Role = Literal["admin", "manager", "department", "guide", "viewer"]
ROLE_ZH: dict[Role, str] = {"admin": "系统管理员", "manager": "中心管理人员",
                            "department": "部门负责人", "guide": "导办台", "viewer": "只读"}
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_LENGTH = 8
HASHER = PasswordHasher()
# verified against when the user name is unknown, so a wrong name costs the same time
_NOBODY = HASHER.hash("no such account")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    department: str | None
    session_version: int

    @property
    def role_zh(self) -> str:
        return ROLE_ZH[self.role]


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("hub").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str) -> None:
    """UserError with the reason in Chinese when the password may not be used."""
    if len(password) < MIN_LENGTH:
        raise UserError(ErrorCode.INVALID, "password too short",
                        f"密码至少{MIN_LENGTH}位")
    if len(password) > 128:
        raise UserError(ErrorCode.INVALID, "password too long", "密码最多128位")
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) < 3:
        raise UserError(ErrorCode.INVALID, "common password",
                        "这个密码太常见，容易被猜到，请换一个")
    if username.lower() in lowered:
        raise UserError(ErrorCode.INVALID, "password has the user name", "密码不能包含用户名")


def _row_account(row: Row[Any]) -> Account:
    r = row._mapping
    return Account(id=r["id"], username=r["username"], display_name=r["display_name"],
                   role=r["role"], department=r["department_code"],
                   session_version=r["session_version"])


def get(conn: Connection, account_id: int) -> Account | None:
    """An active account by id (a session's)."""
    row = conn.execute(select(accounts).where(accounts.c.id == account_id,
                                              accounts.c.active.is_(True))).one_or_none()
    return None if row is None else _row_account(row)


def count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(accounts)) or 0)


def listing(conn: Connection) -> list[tuple[Account, bool]]:
    """Every account with whether it is active, by user name."""
    return [(_row_account(r), bool(r.active))
            for r in conn.execute(select(accounts).order_by(accounts.c.username))]


def verify(conn: Connection, username: str, password: str) -> Account | None:
    """The account when the name and password match an active account, else None; the
    time taken is the same either way (one hash)."""
    row = conn.execute(select(accounts).where(accounts.c.username == username.strip().lower(),
                                              accounts.c.active.is_(True))).one_or_none()
    try:
        HASHER.verify(row.password_hash if row is not None else _NOBODY, password)
    except (VerificationError, InvalidHashError):
        return None
    return None if row is None else _row_account(row)


def add(conn: Connection, username: str, display_name: str, role: str,
        department: str | None, password: str, who: str, now: datetime) -> Account:
    """A new account; refused with the reason in Chinese."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise UserError(ErrorCode.INVALID, f"username {username!r}",
                        "用户名为2到32位小写字母、数字、点、横线或下划线，以字母开头")
    if conn.scalar(select(accounts.c.id).where(accounts.c.username == username)):
        raise UserError(ErrorCode.INVALID, f"username {username} taken",
                        f"用户名 {username} 已存在")
    if role not in ROLE_ZH:
        raise UserError(ErrorCode.INVALID, f"role {role}",
                        "角色应为：" + "、".join(f"{k}（{v}）" for k, v in ROLE_ZH.items()))
    if (role == "department") != (department is not None):
        raise UserError(ErrorCode.INVALID, "department",
                        "部门负责人须指定部门；其他角色不指定部门")
    if department is not None and department not in hall_state.departments(conn):
        raise UserError(ErrorCode.INVALID, f"department {department}", f"没有部门 {department}")
    if not display_name.strip() or len(display_name) > 50:
        raise UserError(ErrorCode.INVALID, "display name", "请填写姓名（50字以内）")
    check_password(password, username)
    result = conn.execute(insert(accounts).values(
        username=username, display_name=display_name.strip(), role=role,
        department_code=department, password_hash=HASHER.hash(password), active=True,
        session_version=1, created_at=now, changed_at=now))
    audit.record(conn, now, who, "account.add", username, None,
                 {"role": role, "department": department, "name": display_name.strip()})
    account = get(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert account is not None
    return account


def set_password(conn: Connection, username: str, password: str, who: str,
                 now: datetime) -> None:
    """A new password; the account's sessions end."""
    row = _existing(conn, username)
    check_password(password, row.username)
    conn.execute(update(accounts).where(accounts.c.id == row.id).values(
        password_hash=HASHER.hash(password), session_version=row.session_version + 1,
        changed_at=now))
    audit.record(conn, now, who, "account.password", row.username, None, None)


def set_active(conn: Connection, username: str, active: bool, who: str, now: datetime) -> None:
    """Disable (its sessions end) or enable an account; the last admin stays."""
    row = _existing(conn, username)
    if not active and row.role == "admin" and int(conn.scalar(
            select(func.count()).where(accounts.c.role == "admin",
                                       accounts.c.active.is_(True))) or 0) <= 1:
        raise UserError(ErrorCode.INVALID, "last admin", "不能停用最后一个系统管理员")
    conn.execute(update(accounts).where(accounts.c.id == row.id).values(
        active=active, session_version=row.session_version + 1, changed_at=now))
    audit.record(conn, now, who, "account.enable" if active else "account.disable",
                 row.username, {"active": bool(row.active)}, {"active": active})


def _existing(conn: Connection, username: str) -> Row[Any]:
    row = conn.execute(select(accounts).where(accounts.c.username == username.strip().lower())
                       ).one_or_none()
    if row is None:
        raise UserError(ErrorCode.INVALID, f"no account {username}", f"没有用户 {username}")
    return row
