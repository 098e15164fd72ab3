"""A manager's action from a dashboard form: run on the hub's request thread with the
signed-in account's name, then back to the page with what was done, or the page again
with why not (in Chinese)."""

from __future__ import annotations

from collections.abc import Callable

from flask import redirect
from sqlalchemy import Connection
from werkzeug.wrappers import Response

from hub.web.auth import Run, account
from protocol.errors import UserError

BUSY_ZH = "大厅服务器暂未连上消息服务器，未修改，请稍后再试"
Page = Callable[[int, str], tuple[str, int]]


def act(run: Run, job: Callable[[Connection, str], object], refused: Page,
        done_url: str) -> tuple[str, int] | Response:
    """`job(conn, who)` in its transaction; a redirect to `done_url`, or `refused(status,
    message)` when the hub refused it or is not serving."""
    who = account().username  # read here: the job runs on the hub's thread
    try:
        run(lambda conn: job(conn, who))
    except UserError as err:
        return refused(400, err.zh)
    except TimeoutError:
        return refused(503, BUSY_ZH)
    return redirect(done_url, 303)
