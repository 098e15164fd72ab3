"""`./hallq demo` as a user runs it: the whole simulated hall for half a minute, with the real
window program and main screen drawing off screen, then its summary, checked against what
the hub recorded and what the screens and the speaker left behind."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.screen_run import ROOT

SECONDS = 30


def test_the_demo_runs_a_hall_with_its_screens_and_spoken_calls(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HALLQ_", "KIVY_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    run = subprocess.run([sys.executable, "-m", "hallsim", "--seconds", str(SECONDS),
                          "--workdir", str(workdir), "--seed", "7", "--port", "0"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 90)
    out = run.stdout
    assert run.returncode == 0, out[-2000:] + run.stderr[-2000:]
    assert "窗口屏 window screen: off screen" in out and "大厅综合屏 main screen" in out

    issued = int(re.search(r"取号 issued:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    announced, spoken = map(int, re.search(  # type: ignore[union-attr]
        r"大屏叫号 announced: (\d+)（语音文件 spoken: (\d+)）", out).groups())
    assert issued > 20 and announced > 10
    assert spoken >= announced - 2  # the main screen's voice, one WAV a call (the last may
    assert len(list((workdir / "announcements").glob("*.wav"))) == spoken  # be cut short)
    assert "设备未确认请求 unanswered requests in outboxes: 0" in out

    for screen in ("window-1", "main-screen"):  # what the screens showed, saved every 2 s
        assert (workdir / f"{screen}.png").stat().st_size > 20_000, screen
        log = (workdir / f"{screen}.log").read_text()
        assert "Traceback" not in log, log[-2000:]
    with sqlite3.connect(workdir / "hub.db") as db:  # the evaluator at window 1 was used
        reviews = db.execute("SELECT window_number, channel FROM reviews").fetchall()
        finished_there = db.execute("SELECT count(*) FROM cases WHERE window_number = 1"
                                    ).fetchone()[0]
    assert finished_there >= 1 and reviews
    assert {r for r in reviews} == {(1, "window")}
