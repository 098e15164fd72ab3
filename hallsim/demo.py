"""`./hallq demo`: a whole hall on one machine — broker, hub, dashboard, kiosks, windows, screen.

Every part is the real program talking MQTT through a real Mosquitto; only the
citizens and the staff are robots.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from caller_display.main_screen import Call, MainScreen, window_text
from hallsim.broker import Broker, free_port
from hallsim.devices import SimKiosk, SimWindow
from hub import admin
from hub.app import Hub
from hub.booking import book, slots
from hub.db.schema import appointments, cases, ticket_events, tickets
from hub.identity import check_character
from hub.settings import HubSettings
from hub.web.booking_pages import STATUS_ZH
from hub.work_calendar import WorkCalendar
from printing.printers import FilePrinter
from protocol.errors import UserError
from protocol.link import DeviceLink, State
from protocol.messages import OUTCOME_ZH, WindowState
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass

HALL = "demo"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="./hallq demo", description="运行一个模拟政务服务大厅")
    p.add_argument("--seconds", type=float, default=None, help="stop by itself after N seconds")
    p.add_argument("--kiosks", type=int, default=2, help="simulated ticket machines")
    p.add_argument("--windows", type=int, default=6, help="windows staffed (from the catalogue)")
    p.add_argument("--per-minute", type=float, default=40, help="citizens per minute per kiosk")
    p.add_argument("--port", type=int, default=8080, help="dashboard port (a free one if taken)")
    p.add_argument("--workdir", type=Path, default=Path("var/demo"), help="wiped at start")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable run")
    p.add_argument("--kiosk-screen", action="store_true",
                   help="also run the kiosk's touch app (a window on your display; with no "
                        "display, off screen, saving what it shows to WORKDIR/kiosk-screen.png)")
    p.add_argument("--no-screens", action="store_true",
                   help="without the window screen and the main screen (robots and the "
                        "dashboard only)")
    return p.parse_args(argv)


def working_morning() -> datetime:
    """09:00 of today, or of the next working day: the simulated hall is open."""
    calendar = WorkCalendar()
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day, clock_time(9, 0))


def port_or_free(port: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            return free_port()


DEMO_USER = "demo"


def demo_account(url: str) -> str:
    """The demo's dashboard account (系统管理员) with a new random password each run: a
    real hall makes its own with `./hallq admin accounts add`; none comes by default."""
    password = secrets.token_urlsafe(9)
    known = {a["username"] for a in admin.call(url, "GET", "/accounts")["accounts"]}
    if DEMO_USER in known:  # made by an earlier run in the same data directory
        admin.call(url, "POST", f"/accounts/{DEMO_USER}/password",
                   {"password": password, "who": "hallq demo"})
    else:
        admin.call(url, "POST", "/accounts", {"username": DEMO_USER, "name": "演示管理员",
                                             "role": "admin", "password": password,
                                             "who": "hallq demo"})
    return password


def main(argv: list[str] | None = None) -> None:
    """Run the demo. Whatever ends it (Ctrl-C, SIGTERM, the time, a closed terminal, a
    bug) stops what it started: the screens' processes, the hub, the broker."""
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.ExitStack() as started:
        run_demo(parse_args(argv), started)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the demo as Ctrl-C does: a summary, then clean-up


def run_demo(args: argparse.Namespace, started: contextlib.ExitStack) -> None:
    rng = random.Random(args.seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        filename=str(args.workdir / "demo.log"))
    tty = sys.stdout.isatty()

    broker = Broker(args.workdir / "broker")
    broker.start()
    started.callback(broker.stop)
    hub = Hub(HubSettings(hall_id=HALL, db_url=f"sqlite:///{args.workdir / 'hub.db'}",
                          mqtt=broker.settings_for(DeviceClass.HUB),
                          http_port=port_or_free(args.port), start_at=working_morning()))
    hub.start()
    started.callback(hub.stop)
    hub.consumer.wait_connected(10)

    windows = hub.catalogue.windows[: args.windows]
    issue = next((w for w in hub.catalogue.windows if w.kind == "统一出件"), None)
    if issue is not None and issue not in windows:
        windows.append(issue)  # 统一出件: cases transferred from the front windows end here
    issue_window = (issue.number, set(issue.services)) if issue else None
    served = sorted({code for w in windows for code in w.services})
    stop = threading.Event()
    calls: list[Call] = []

    def announce(call: Call) -> None:
        calls.append(call)
        say(f"📢 {call.text}")

    screen = MainScreen(announce)
    shown: dict[int, str] = {}

    def on_state(state: State, live: bool) -> None:
        """Show the calls, and pauses and returns as they happen."""
        screen.on_state(state, live)
        if isinstance(state, WindowState) and live:
            before, shown[state.window] = shown.get(state.window), state.status
            if state.status in ("paused", "away") and before != state.status:
                say(f"⏸  {state.window}号窗口 {window_text(state)}")
            elif before in ("paused", "away") and state.status == "open":
                say(f"▶  {state.window}号窗口 恢复服务")

    def say(line: str) -> None:
        print(f"\r\033[K{line}" if tty else line, flush=True)

    screen_link = DeviceLink(
        DeviceSettings(hall_id=HALL, device_id="demo-console",
                       mqtt=broker.settings_for(DeviceClass.DISPLAY), data_dir=args.workdir),
        DeviceClass.DISPLAY, on_state=on_state,
        on_event=lambda broadcast: say(f"📣 广播：{broadcast.text}"))  # from 叫号与广播
    screen_link.start()
    kiosks = [SimKiosk(f"kiosk-{i + 1}", HALL, broker.settings_for(DeviceClass.KIOSK),
                       args.workdir, served, args.per_minute, random.Random(rng.random()))
              for i in range(args.kiosks)]
    for i, code in enumerate(book_demo_appointments(hub, served, rng)):
        kiosks[i % len(kiosks)].appointments.append(code)
    materials = {s.code: s.materials for s in hub.catalogue.all_services()}
    # One window runs the real window program (screen, mock-pin buttons, evaluator).
    real = None if args.no_screens else next((w for w in windows if w.post_a), None)
    staff = [SimWindow(w.number, HALL, broker.settings_for(DeviceClass.CALLER), args.workdir,
                       (3.0, 9.0), random.Random(rng.random()), materials, issue_window,
                       w.post_a, hall_name=hub.catalogue.hall_name)
             for w in windows if w is not real]
    devices: list[SimKiosk | SimWindow] = [*kiosks, *staff]
    threads = [threading.Thread(target=d.run, args=(stop,), daemon=True) for d in devices]

    display = display_kind()
    screens: list[ScreenProcess] = []

    @started.callback
    def stop_screens() -> None:
        for screen_process in screens:
            screen_process.stop()

    if args.kiosk_screen:
        screens.append(ScreenProcess("kiosk", "kiosk-screen", "KIOSK", DeviceClass.KIOSK,
                                     "kiosk-screen", broker, args.workdir))
    if real is not None:
        screens.append(ScreenProcess(
            "hallsim.window_screen", f"window-{real.number}", "CALLER", DeviceClass.CALLER,
            f"caller-{real.number}", broker, args.workdir,
            {"WINDOW": str(real.number), "PRINTER": "file",
             "PRINTER_FILE": str(args.workdir / f"window-{real.number}.escpos"),
             "HALL_NAME": hub.catalogue.hall_name},
            {"HALLQ_DEMO_STAFF_NO": real.post_a or "", "HALLQ_DEMO_SEED": str(args.seed or 0)}))
    if not args.no_screens:
        screens.append(ScreenProcess(
            "caller_display.hall_screen", "main-screen", "DISPLAY", DeviceClass.DISPLAY,
            "main-screen", broker, args.workdir,
            {"PLAYER": "file", "CLIPS_DIR": str(args.workdir / "voice"),
             "WAV_DIR": str(args.workdir / "announcements"),
             "HALL_NAME": hub.catalogue.hall_name}))
    password = demo_account(hub.dashboard_url)
    print(f"HallQ 模拟大厅已启动：{hub.catalogue.hall_name}")
    print(f"  管理看板 dashboard: {hub.dashboard_url}  用户名 {DEMO_USER}  密码 {password}"
          "（本次演示随机生成）")
    print(f"  MQTT broker: 127.0.0.1:{broker.port}   数据目录: {args.workdir}")
    print(f"  {len(kiosks)} 台取号机, {len(windows)} 个窗口: "
          + "、".join(w.name for w in windows))
    for screen_process in screens:
        print(f"  {SCREEN_NAMES[screen_process.module]}: {screen_process.where(display)}")
    if not args.no_screens:
        print(f"  语音叫号 spoken calls: {args.workdir / 'announcements'}/*.wav")
    print("  按 Ctrl-C 结束" + (f"（{args.seconds:g} 秒后自动结束）" if args.seconds else ""))
    began = time.monotonic()
    try:  # from here on, Ctrl-C or SIGTERM ends the day with its summary
        wait_for_screens(hub, screens, display)
        began = time.monotonic()
        for t in threads:
            t.start()
        while args.seconds is None or time.monotonic() - began < args.seconds:
            time.sleep(1)
            line = status_line(hub)
            print(f"\r\033[K{line}" if tty else line, end="" if tty else "\n", flush=True)
    except KeyboardInterrupt:
        pass
    print("\n正在结束…", flush=True)
    stop.set()
    for t in threads:
        if t.is_alive():
            t.join(timeout=15)
    time.sleep(0.5)  # the last window states reach the screen
    for screen_process in screens:
        screen_process.stop()
    pending = sum(len(d.link.outbox) for d in devices)
    for d in devices:
        d.close()
    screen_link.stop()
    pauses = sum(w.pauses for w in staff)
    notices = sum(w.core.printer.path.read_bytes().count(b"\x1dV")  # one cut a slip
                  for w in staff if isinstance(w.core.printer, FilePrinter)
                  and w.core.printer.path.exists())
    spoken = len(list((args.workdir / "announcements").glob("*.wav")))
    print_summary(hub, calls, pending, pauses, time.monotonic() - began, notices, spoken)


SCREEN_NAMES = {"kiosk": "触摸取号机 kiosk app", "hallsim.window_screen": "窗口屏 window screen",
                "caller_display.hall_screen": "大厅综合屏 main screen"}


def display_kind() -> str | None:
    """The display the screens open their windows on; None: none, they draw off screen."""
    return os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or None


class ScreenProcess:
    """A screen program (`python -m module`) as its own process on the demo's broker.

    With no display it draws off screen and saves what it shows to WORKDIR/<name>.png every
    2 seconds; its log goes to WORKDIR/<name>.log.
    """

    def __init__(self, module: str, name: str, prefix: str, device_class: DeviceClass,
                 device_id: str, broker: Broker, workdir: Path,
                 settings: dict[str, str] | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.module = module
        self.device_id = device_id
        self.shot = workdir / f"{name}.png"
        mqtt = broker.settings_for(device_class)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
        values = {"HALL_ID": HALL, "DEVICE_ID": device_id, "DATA_DIR": str(workdir / name),
                  "MQTT__HOST": mqtt.host, "MQTT__PORT": str(mqtt.port),
                  "MQTT__USERNAME": mqtt.username or "",
                  "MQTT__PASSWORD": mqtt.password.get_secret_value() if mqtt.password else "",
                  **(settings or {})}
        if display_kind() is None:
            env["SDL_VIDEODRIVER"] = "offscreen"
            values.update({"SCREENSHOT_EVERY_S": "2", "SCREENSHOT_PATH": str(self.shot)})
        env.update({f"HALLQ_{prefix}_{k}": v for k, v in values.items()})
        env.update({"KIVY_NO_ARGS": "1", "KIVY_HOME": str(workdir / "kivy"),
                    "KIVY_LOG_MODE": "PYTHON", **(extra_env or {})})
        log_file = (workdir / f"{name}.log").open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", module], env=env,
                                     stdout=log_file, stderr=subprocess.STDOUT)

    def ready(self, hub: Hub, display: str | None) -> bool:
        """Up: the hub sees the device online and, off screen, it has saved what it shows."""
        return hub.devices.online(self.device_id) and (display is not None or self.shot.exists())

    def where(self, display: str | None) -> str:
        if display is not None:
            return "a window on your display"
        return f"off screen (no display); what it shows: {self.shot}, every 2 s"

    def stop(self) -> None:
        """SIGTERM: the program leaves its loop and tells the hub it is offline."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


SCREENS_START_S = 90.0  # a Pi 3 takes ~20 s to start Kivy; a busy CI runner longer


def wait_for_screens(hub: Hub, screens: list[ScreenProcess], display: str | None) -> None:
    """The hall opens when its screens are up, so they show the day from its first ticket
    (and a short demo is not over before a slow machine has drawn them). A screen that does
    not come up is named, with its log, and the demo goes on without waiting for it."""
    if not screens:
        return
    print("  正在启动屏幕程序…", flush=True)
    started = time.monotonic()
    waiting = list(screens)
    while waiting and time.monotonic() - started < SCREENS_START_S:
        waiting = [s for s in waiting if s.proc.poll() is None and not s.ready(hub, display)]
        time.sleep(0.2)
    failed = [s for s in screens if s in waiting or s.proc.poll() is not None]
    for s in failed:
        print(f"  ⚠ {SCREEN_NAMES[s.module]} 未能启动，见 {s.shot.with_suffix('.log')}",
              flush=True)
    took = time.monotonic() - started
    print(f"  {len(screens) - len(failed)} 个屏幕程序已就绪（{took:.0f} 秒），开始营业", flush=True)


DEMO_PEOPLE = 8  # appointments booked at the start (made-up people, valid ID numbers)


def book_demo_appointments(hub: Hub, services: list[str], rng: random.Random) -> list[str]:
    """Book the morning's first slots for a few made-up people, as their phones would; their
    QR codes, for the kiosks' citizens to show. A booking refused (a full slot) is skipped."""
    day = hub.clock.service_day()

    def book_one(conn: Connection, service: str, id_number: str) -> str | None:
        free = [s for s in slots(conn, hub.consumer.ctx, service, day)
                if s.left and not s.out_of_hours]
        if not free:
            return None
        try:
            return book(conn, hub.consumer.ctx, service=service, day=day, start=free[0].start,
                        name="张三", id_number=id_number, phone="13800000000",
                        channel="web").code
        except UserError:
            return None

    codes = []
    for i in range(DEMO_PEOPLE):
        first17 = f"110105{1960 + i}0101{i:03d}"
        number = first17 + check_character(first17)
        code = hub.consumer.run(functools.partial(book_one, service=rng.choice(services),
                                                  id_number=number))
        if code is not None:
            codes.append(code)
    return codes


def status_line(hub: Hub) -> str:
    """One line: 已取号 / 等候 / 已叫号 / 已办结 / 开放窗口."""
    _, state = hub.feed.snapshot()
    q = state["queue"]
    if q is None:
        return "等待大厅数据…"
    paused = sum(1 for w in state["windows"] if w["status"] in ("paused", "away"))
    return (f"已取号 {q['issued']} · 等候 {q['waiting']} · 已叫号 {q['called']} · "
            f"已办结 {q['finished']} · 过号 {q['no_show']} · 开放窗口 {q['windows_open']}"
            f"（暂停 {paused}）")


def print_summary(hub: Hub, calls: list[Call], pending: int, pauses: int,
                  seconds: float, notices: int = 0, spoken: int = 0) -> None:
    """What happened, read from the hub's database (the truth), not from the robots."""
    with hub.engine.connect() as conn:
        by_status: dict[str, int] = dict(conn.execute(
            select(tickets.c.status, func.count()).group_by(tickets.c.status)).all())
        recalls = conn.scalar(select(func.coalesce(func.sum(tickets.c.recalls), 0)))
        events: dict[str, int] = dict(conn.execute(
            select(ticket_events.c.event, func.count()).group_by(ticket_events.c.event)).all())
        outcomes: dict[str, int] = dict(conn.execute(
            select(cases.c.outcome, func.count()).group_by(cases.c.outcome)).all())
        rows = conn.execute(select(tickets.c.issued_at, tickets.c.called_at)
                            .where(tickets.c.called_at.is_not(None))).all()
    transfers = events.get("transferred", 0)
    calls_made = sum(events.get(e, 0) for e in ("called", "recalled", "called_back"))
    waits = sorted((r.called_at - r.issued_at).total_seconds() for r in rows)
    issued = sum(by_status.values())
    print(f"\n=== 模拟结束 ({seconds:.0f} 秒) ===")
    print(f"取号 issued:    {issued}")
    called = sum(by_status.get(s, 0) for s in ("called", "finished", "no_show"))
    print(f"已叫号 called:  {called}")
    print(f"已办结 finished: {by_status.get('finished', 0)}")
    print(f"仍在等候 waiting: {by_status.get('waiting', 0)}")
    print(f"过号 no-shows:    {by_status.get('no_show', 0)}")
    print(f"重呼 recalls:     {recalls}")
    print(f"叫号次数 calls:   {calls_made}")
    print(f"大屏叫号 announced: {len(calls)}")
    print(f"语音叫号 spoken:   {spoken}")
    print(f"暂停离开 pauses:   {pauses}")
    print(f"转办 transfers:   {transfers}")
    print("办结结果 outcomes: " + ("、".join(f"{OUTCOME_ZH[o]} {n}" for o, n in
                                          sorted(outcomes.items(), key=lambda x: -x[1])) or "—"))
    if waits:
        print(f"等候时长 wait: 平均 {sum(waits) / len(waits):.1f} 秒, "
              f"最长 {waits[-1]:.1f} 秒")
    print(f"设备未确认请求 unanswered requests in outboxes: {pending}")
    print(f"补正告知单 notices printed: {notices}")
    with hub.engine.connect() as conn:
        booked: dict[str, int] = dict(conn.execute(
            select(appointments.c.status, func.count()).group_by(appointments.c.status)).all())
    print("预约 appointments: " + ("、".join(f"{STATUS_ZH.get(s, s)} {n}" for s, n in
                                          sorted(booked.items())) or "—"))


if __name__ == "__main__":
    main()
