"""`./hallq admin`: change the window–service matrix, the calendar and appointments of a
running hub.

Run on the hub machine; it talks to the hub's settings API (hub/web/settings_api.py),
so a change takes effect at once, with the same checks as the dashboard will have:

    ./hallq admin matrix                         every window and its services
    ./hallq admin matrix 5 add GA_JZZ            window 5 also serves GA_JZZ
    ./hallq admin matrix 5 remove GA_JZZ
    ./hallq admin matrix 5 set GA_HJQY GA_CSDJ   exactly these
    ./hallq admin matrix 5 reset                 back to the catalogue file
    ./hallq admin calendar 2027                  the days entered for 2027
    ./hallq admin calendar set 2027-01-01 off 元旦
    ./hallq admin calendar import holidays-2027.txt
    ./hallq admin calendar clear 2027-01-01
    ./hallq admin appointments check-in Xq3v9Jk2       导办台: a booking's ticket by its number
    ./hallq admin appointments confirm Xq3v9Jk2 yes     an out-of-hours booking
    ./hallq admin appointments confirm Xq3v9Jk2 no 部门当天无人值守
    ./hallq admin appointments excuse Xq3v9Jk2 停电临时闭馆   a no-show the hall caused
    ./hallq admin appointments lift 7 误判：当天已到窗口办理   a blacklisting
    ./hallq admin reviews supplement 2026-11-24 A005 满意 --channel call   补充评价
    ./hallq admin followups                          the open 差评整改 follow-ups
    ./hallq admin followups 3 callback 已电话回访，群众反映等候久
    ./hallq admin followups 3 appeal 评价人误按；监控可查     then: 3 upheld|rejected 理由
    ./hallq admin ranking 2026-11-16 BDC quality 17 窗口前排队时间长   周通报: a week's points
    ./hallq admin ranking 2026-11-16 BDC quality full 复核无误          back to full points
    ./hallq admin accounts                           the dashboard's accounts
    ./hallq admin accounts add zhang --role admin --name 张主任   asks for the password twice
    ./hallq admin accounts add li --role department --department GA --name 李科长
    ./hallq admin accounts password zhang | disable li | enable li

A holidays file has one line per day or span: `2027-02-06..2027-02-12 off 春节`,
`2027-02-14 work 春节调休` (off/休, work/班); `#` starts a comment. It is entered
all at once or, on any error, not at all.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hub.accounts import ROLE_ZH
from hub.settings import HubSettings
from hub.weekly_ranking import SHEET

GRADES = {"非常满意": "very_satisfied", "满意": "satisfied", "基本满意": "basic",
          "不满意": "unsatisfied", "非常不满意": "very_unsatisfied",
          **{g: g for g in ("very_satisfied", "satisfied", "basic", "unsatisfied",
                            "very_unsatisfied")}}
WORDS = {"off": False, "休": False, "work": True, "班": True}


class AdminError(Exception):
    """A refusal or failure, in Chinese, for the person at the terminal."""


def call(url: str, method: str, path: str, payload: Any = None) -> dict[str, Any]:
    """One request to the settings API; its JSON answer, or AdminError with its message."""
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url.rstrip("/") + "/api/settings" + path, data=data,
                                 method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            answer: dict[str, Any] = json.load(resp)
    except urllib.error.HTTPError as err:
        try:
            message = json.load(err)["message"]
        except (ValueError, KeyError):
            message = f"HTTP {err.code}"
        raise AdminError(message) from None
    except (urllib.error.URLError, OSError) as err:
        raise AdminError(f"连接不到大厅服务器 {url}（{err}）：它在运行吗？") from None
    return answer


def parse_days(lines: list[str]) -> list[dict[str, Any]]:
    """Holiday-file lines into API days; AdminError names the first bad line."""
    days: list[dict[str, Any]] = []
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 2 or parts[1] not in WORDS:
            raise AdminError(f"第{n}行看不懂：“{raw.strip()}”（应为：2027-01-01 off 元旦）")
        first, _, last = parts[0].partition("..")
        try:
            start = date.fromisoformat(first)
            end = date.fromisoformat(last) if last else start
        except ValueError:
            raise AdminError(f"第{n}行日期有误：“{parts[0]}”（应为2027-01-01）") from None
        if end < start or (end - start).days > 31:
            raise AdminError(f"第{n}行日期区间有误：“{parts[0]}”")
        note = parts[2] if len(parts) > 2 else ""
        day = start
        while day <= end:
            days.append({"day": day.isoformat(), "workday": WORDS[parts[1]], "note": note})
            day += timedelta(days=1)
    if not days:
        raise AdminError("文件里没有日期")
    return days


def show_matrix(url: str, window: int | None) -> None:
    for row in call(url, "GET", "/window-services")["windows"]:
        if window is None or row["window"] == window:
            who = "（管理员已调整）" if row["edited"] else ""
            print(f"{row['window']:>3}  {row['name']}{who}")
            print(f"     {' '.join(row['services']) or '（不办理任何事项）'}")


def change_matrix(url: str, window: int, verb: str, codes: list[str], who: str) -> None:
    if verb == "reset":
        answer = call(url, "DELETE", f"/window-services/{window}?who={quote(who)}")
    else:
        current = next((r["services"] for r in call(url, "GET", "/window-services")["windows"]
                        if r["window"] == window), None)
        if current is None:
            raise AdminError(f"没有{window}号窗口")
        wanted = {"set": codes, "add": [*current, *codes],
                  "remove": [c for c in current if c not in codes]}[verb]
        answer = call(url, "PUT", f"/window-services/{window}", {"services": wanted,
                                                                "who": who})
    added, removed = answer["added"], answer["removed"]
    print(f"{window}号窗口已更新，下一次叫号起生效。新增：{' '.join(added) or '无'}；"
          f"移除：{' '.join(removed) or '无'}")


def show_calendar(url: str, year: int | None) -> None:
    answer = call(url, "GET", "/calendar" + (f"?year={year}" if year else ""))
    for y in answer["unknown_years"]:
        print(f"注意：{y}年的法定节假日和调休安排尚未录入，目前按周一至周五计算工作日")
    for d in answer["days"]:
        kind = "上班（调休）" if d["workday"] else "放假"
        print(f"{d['day']}  {kind}  {d['note']}")
    if not answer["days"]:
        print("没有录入的日期：工作日按国家日历（chinesecalendar）计算")


STEP_ZH = {"callback": "回访", "investigation": "调查核实", "handling": "处理",
           "measures": "整改措施", "result": "整改结果（办结）", "appeal": "申诉",
           "upheld": "申诉成立", "rejected": "申诉不成立"}


def followup_command(url: str, args: list[str], who: str) -> None:
    """List the open follow-ups, or record a step, an appeal or a decision."""
    if not args:
        for f in call(url, "GET", "/followups")["followups"]:
            late = "【已超期】" if f["overdue"] else ""
            todo = "申诉待裁定" if f["appeal"] else f"下一步：{STEP_ZH.get(f['next'], '-')}"
            print(f"{f['id']:>4} {late}{f['grade']}（{f['reason'] or '-'}） {f['window']}号窗口 "
                  f"{f['service']} 部门{f['department']} 期限{f['deadline']} {todo}")
        return
    if len(args) < 3 or not args[0].isdigit() or args[1] not in STEP_ZH:
        raise AdminError("用法：followups ID callback|investigation|handling|measures|result|"
                         "appeal|upheld|rejected 情况说明")
    call(url, "POST", f"/followups/{args[0]}/{args[1]}", {"text": " ".join(args[2:]),
                                                          "who": who})
    print(f"已记录：{STEP_ZH[args[1]]}")


def ranking_command(url: str, ns: argparse.Namespace) -> None:
    """A manager's points for an item of a department's week (周通报)."""
    try:
        points = None if ns.points in ("full", "满分") else float(ns.points)
    except ValueError:
        raise AdminError("分值应为数字，或 full（恢复满分）") from None
    call(url, "POST", f"/ranking/{ns.week}/{ns.department}/{ns.item}",
         {"points": points, "note": " ".join(ns.note), "who": ns.who})
    print(f"已录入{ns.week}这一周 {ns.department} 的{ns.item}："
          f"{'满分' if points is None else f'{points:g} 分'}；周通报：{url}/ranking?week={ns.week}")


ROLES = tuple(ROLE_ZH)


def read_password(from_stdin: bool) -> str:
    """The new password: one line on stdin (scripts), or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("新密码（至少8位）：")
    if getpass.getpass("再输入一次：") != first:
        raise AdminError("两次输入的密码不一致")
    return first


def accounts_command(url: str, ns: argparse.Namespace) -> None:
    """List the dashboard's accounts, add one, change a password, disable or enable."""
    if ns.verb is None:
        for a in call(url, "GET", "/accounts")["accounts"]:
            state = "" if a["active"] else "【已停用】"
            print(f"{a['username']:<16} {state}{a['name']} {a['role_zh']} {a['department'] or ''}")
        return
    if ns.username is None:
        raise AdminError(f"用法：accounts {ns.verb} 用户名")
    if ns.verb == "add":
        if not ns.role or not ns.name:
            raise AdminError("请用 --role 指定角色（" + "、".join(ROLES) + "），用 --name 填写姓名")
        answer = call(url, "POST", "/accounts", {
            "username": ns.username, "name": ns.name, "role": ns.role,
            "department": ns.department, "password": read_password(ns.password_stdin),
            "who": ns.who})
        print(f"已开设账号 {answer['username']}（{answer['role_zh']}），请用它登录管理看板 {url}")
    elif ns.verb == "password":
        call(url, "POST", f"/accounts/{ns.username}/password",
             {"password": read_password(ns.password_stdin), "who": ns.who})
        print(f"{ns.username} 的密码已更改，该账号已登录的地方需重新登录")
    else:
        call(url, "POST", f"/accounts/{ns.username}/active",
             {"active": ns.verb == "enable", "who": ns.who})
        print(f"{ns.username} 已{'启用' if ns.verb == 'enable' else '停用'}")


def appointments(url: str, verb: str, target: str, rest: list[str], who: str) -> None:
    """The managers' appointment actions, on the hub's settings API."""
    if verb == "check-in":
        answer = call(url, "POST", f"/appointments/{target}/check-in", {"who": who})
        print(f"已取号：{answer['number']}（{answer['service']}），请将号码告知群众")
        return
    if verb == "confirm":
        if not rest or rest[0] not in ("yes", "no"):
            raise AdminError("用法：appointments confirm 编号 yes|no [原因]")
        answer = call(url, "POST", f"/appointments/{target}/confirm",
                      {"accept": rest[0] == "yes", "who": who, "note": " ".join(rest[1:])})
        print("已确认，已短信通知预约人" if answer["status"] == "booked"
              else "已拒绝，已短信通知预约人")
        return
    reason = " ".join(rest).strip()
    if not reason:
        raise AdminError("请写明原因（将记入操作日志）")
    if verb == "excuse":
        call(url, "POST", f"/appointments/{target}/excuse", {"who": who, "reason": reason})
        print("该次预约未到已免责")
    else:
        if not target.isdigit():
            raise AdminError("黑名单记录号应为数字（见预约管理页）")
        call(url, "POST", f"/blacklist/{target}/lift", {"who": who, "reason": reason})
        print("已解除黑名单")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, do it, print the outcome in Chinese; 1 on a refusal."""
    parser = argparse.ArgumentParser(prog="./hallq admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the hub's dashboard address (default: this machine)")
    sub = parser.add_subparsers(dest="what", required=True)
    m = sub.add_parser("matrix", help="which windows serve which items")
    m.add_argument("window", type=int, nargs="?")
    m.add_argument("verb", nargs="?", choices=["set", "add", "remove", "reset"])
    m.add_argument("codes", nargs="*")
    m.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    c = sub.add_parser("calendar", help="holidays and 调休 working days")
    c.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    c.add_argument("args", nargs="*", metavar="[YEAR | set DAY off|work NOTE | import FILE | "
                   "clear DAY]")
    a = sub.add_parser("appointments", help="confirm out-of-hours bookings, excuse a no-show, "
                       "lift a blacklisting (each written to the audit log)")
    a.add_argument("verb", choices=["check-in", "confirm", "excuse", "lift"])
    a.add_argument("target", help="the booking's number (编号) or the blacklist entry (记录号)")
    a.add_argument("rest", nargs="*", metavar="[yes|no] REASON")
    a.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    r = sub.add_parser("reviews", help="补充评价: a review given by phone or SMS, entered "
                       "within 5 working days of the case's finish")
    r.add_argument("verb", choices=["supplement"])
    r.add_argument("day", help="the ticket's day, YYYY-MM-DD")
    r.add_argument("number", help="the ticket's number, e.g. A005")
    r.add_argument("grade", choices=sorted(GRADES))
    r.add_argument("reason", nargs="?", help="for 不满意/非常不满意: one of the hall's reasons")
    r.add_argument("--channel", choices=["call", "sms"], default="call")
    r.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    f = sub.add_parser("followups", help="差评整改: the open follow-ups, a step, an appeal, "
                       "the hall's decision on it")
    f.add_argument("args", nargs="*", metavar="[ID callback|investigation|handling|measures|"
                   "result|appeal|upheld|rejected TEXT]")
    f.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    k = sub.add_parser("ranking", help="周通报: a manager's points for an item of a department's "
                       "week; the 好差评 item is computed")
    k.add_argument("week", help="the week's Monday, YYYY-MM-DD")
    k.add_argument("department", help="the department's code, e.g. BDC")
    k.add_argument("item", choices=[i.key for i in SHEET if not i.computed],
                   help="; ".join(f"{i.key} {i.name}" for i in SHEET if not i.computed))
    k.add_argument("points", help="the points, or full (back to full points)")
    k.add_argument("note", nargs="+", help="why: written to the ranking and the audit log")
    k.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    u = sub.add_parser("accounts", help="the dashboard's accounts: list, add, password, "
                       "disable, enable (each written to the audit log)")
    u.add_argument("verb", nargs="?", choices=["add", "password", "disable", "enable"])
    u.add_argument("username", nargs="?")
    u.add_argument("--role", choices=ROLES)
    u.add_argument("--name", help="the person's name, shown on the dashboard")
    u.add_argument("--department", help="for --role department: the department's code")
    u.add_argument("--password-stdin", action="store_true",
                   help="read the password from one line on stdin instead of asking")
    u.add_argument("--who", default=getpass.getuser(), help="your name, for the audit log")
    ns = parser.parse_args(argv)
    url = ns.url or f"http://127.0.0.1:{HubSettings().http_port}"
    try:
        if ns.what == "followups":
            followup_command(url, ns.args, ns.who)
            return 0
        if ns.what == "ranking":
            ranking_command(url, ns)
            return 0
        if ns.what == "accounts":
            accounts_command(url, ns)
            return 0
        if ns.what == "reviews":
            answer = call(url, "POST", "/reviews/supplement", {
                "day": ns.day, "number": ns.number, "grade": GRADES[ns.grade],
                "reason": ns.reason, "channel": ns.channel, "who": ns.who})
            review = answer["review"]
            print(f"已录入补充评价：{review['number']} {review['grade_name']}"
                  f"（{review['window']}号窗口）")
            return 0
        if ns.what == "appointments":
            appointments(url, ns.verb, ns.target, ns.rest, ns.who)
            return 0
        if ns.what == "matrix":
            if ns.verb is None:
                show_matrix(url, ns.window)
            elif ns.verb != "reset" and not ns.codes:
                raise AdminError("请写出事项编码，例如：matrix 5 add GA_JZZ")
            else:
                change_matrix(url, ns.window, ns.verb, ns.codes, ns.who)
            return 0
        args: list[str] = ns.args
        if not args or args[0].isdigit():
            show_calendar(url, int(args[0]) if args else None)
        elif args[0] == "set":
            days = parse_days([" ".join(args[1:])])
            call(url, "PUT", "/calendar", {"days": days, "who": ns.who})
            print(f"已录入{len(days)}天")
        elif args[0] == "import" and len(args) == 2:
            days = parse_days(Path(args[1]).read_text(encoding="utf-8").splitlines())
            call(url, "PUT", "/calendar", {"days": days, "who": ns.who})
            print(f"已录入{len(days)}天")
        elif args[0] == "clear" and len(args) == 2:
            call(url, "DELETE", f"/calendar/{args[1]}?who={quote(ns.who)}")
            print(f"{args[1]}已恢复按国家日历计算")
        else:
            parser.error("calendar: 用法见 ./hallq admin --help")
    except AdminError as err:
        print(f"出错：{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
