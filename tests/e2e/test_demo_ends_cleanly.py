"""`./hallq demo` leaves nothing running behind it, however it ends: stopped by SIGTERM (a
service manager, `timeout`), or its terminal gone (`./hallq demo | head` closes the pipe).
Earlier, a closed pipe killed the demo and left its screen programs and broker running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import eventually


def _processes_using(workdir: Path) -> dict[int, str]:
    """Processes (pid: command) whose command line or environment names the demo's folder."""
    mark = str(workdir).encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if mark in (proc / "cmdline").read_bytes() or mark in (proc / "environ").read_bytes():
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ")\
                    .decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.mark.parametrize("ending", ["sigterm", "closed-pipe"])
def test_the_demo_leaves_nothing_running(tmp_path: Path, ending: str) -> None:
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    demo = subprocess.Popen([sys.executable, "-m", "hallsim", "--seconds", "120", "--port", "0",
                             "--workdir", str(workdir), "--seed", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert demo.stdout is not None
    try:
        lines = []
        while not any("开始营业" in line for line in lines):
            line = demo.stdout.readline().decode()
            assert line, "the demo ended before opening: " + "".join(lines)
            lines.append(line)
        assert len(_processes_using(workdir)) >= 3, "the broker and two screens run"
        if ending == "sigterm":
            demo.send_signal(signal.SIGTERM)
            rest = demo.communicate(timeout=60)[0].decode()
            assert "正在结束" in rest and "取号" in rest, "a summary, as after Ctrl-C"
            assert demo.returncode == 0
        else:
            demo.stdout.close()  # the next status line (each second) fails to print
            demo.wait(timeout=60)
        time.sleep(0.5)
        eventually(lambda: not _processes_using(workdir), timeout=15,
                   what="the demo's broker and screens to end with it")
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in _processes_using(workdir):  # a failed run leaves nothing to the next tests
            os.kill(pid, signal.SIGKILL)
