"""叫号与广播's rules without a hub: what a manager may type, and when a saved broadcast is due."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from hub.announcements import (
    LATE,
    Saved,
    Voice,
    checked_text,
    checked_times,
    checked_voice,
    due,
    scheduled_id,
)
from protocol.errors import UserError


def test_the_voice_as_typed() -> None:
    voice = checked_voice("1", False, "12:00-13:30\n22:00–07:00\n\n11:00~11:30")
    assert voice == Voice(1, False, ((time(11), time(11, 30)), (time(12), time(13, 30)),
                                     (time(22), time(7))))
    assert checked_voice("3", True, "") == Voice(3, True, ())  # never quiet
    assert not checked_voice("2", True, "").is_screens_own and Voice().is_screens_own


@pytest.mark.parametrize(("repeat", "quiet", "said"), [
    ("0", "", "播报次数只能是1到3遍"),
    ("4", "", "播报次数只能是1到3遍"),
    ("两", "", "播报次数只能是1到3遍"),
    ("2", "12:00-25:00", "静音时段“12:00-25:00”格式有误，请写成12:00-13:30"),
    ("2", "中午", "静音时段“中午”格式有误"),
    ("2", "12:00-12:00", "开始和结束相同"),
    ("2", "\n".join(f"0{h}:00-0{h}:30" for h in range(7)), "静音时段最多6段（现有7段）"),
])
def test_a_wrong_voice_is_refused_in_chinese(repeat: str, quiet: str, said: str) -> None:
    with pytest.raises(UserError) as refused:
        checked_voice(repeat, True, quiet)
    assert said in refused.value.zh


def test_a_broadcast_text_is_one_line_of_hall_chinese() -> None:
    assert checked_text("  各位办事群众：\n本中心午间不休息  ") == "各位办事群众： 本中心午间不休息"
    assert checked_text("今日取号将于17:00结束") == "今日取号将于17:00结束"
    assert checked_text("投诉请拨12345") == "投诉请拨12345"  # a hall's line, not a person's
    for text, said in [
        ("", "请填写广播内容"), ("长" * 81, "广播内容最多80字（现有81字）"),
        ("Please queue", "广播内容请用中文书写"),
        ("请13912345678的群众到导办台", "不能包含手机号码或身份证号码"),
        ("身份证41022319800101123X请认领", "不能包含手机号码或身份证号码"),
    ]:
        with pytest.raises(UserError) as refused:
            checked_text(text)
        assert said in refused.value.zh, text
    assert len(checked_text("长" * 80)) == 80


def test_daily_times() -> None:
    assert checked_times("16:50 11:50，11:50、9：05") == (time(9, 5), time(11, 50), time(16, 50))
    assert checked_times("  ") == ()  # by hand only
    for text, said in [("11:5", "播放时间“11:5”格式有误，请写成11:50"),
                       ("24:00", "格式有误"), ("中午", "格式有误"),
                       (" ".join(f"1{h}:00" for h in range(9)), "最多8个播放时间")]:
        with pytest.raises(UserError) as refused:
            checked_times(text)
        assert said in refused.value.zh, text


TUESDAY = datetime(2026, 11, 24)
SAVED = Saved(3, "各位办事群众：本中心午间不休息", (time(11, 50), time(16, 50)))


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return TUESDAY.replace(hour=hour, minute=minute, second=second)


def test_a_saved_broadcast_is_due_at_its_time_on_working_days_once() -> None:
    assert due([SAVED], at(11, 49, 59), True) == []
    assert due([SAVED], at(11, 50), True) == [(SAVED, at(11, 50))]
    assert due([SAVED], at(11, 50), False) == []  # not a working day
    assert due([SAVED], at(11, 50) + LATE, True) == []  # missed by more than LATE: skipped
    assert due([SAVED], at(11, 54, 59), True) == [(SAVED, at(11, 50))]  # a hub back in time
    played = Saved(3, SAVED.text, SAVED.times, last_played="2026-11-24T11:50")
    assert due([played], at(11, 51), True) == []
    assert due([played], at(16, 50), True) == [(played, at(16, 50))]
    assert due([played], datetime(2026, 11, 25, 11, 50), True) != []  # the next day
    # Saved at 11:50:30 (or changed then): its 11:50 has passed, it plays from 16:50 on.
    saved_now = Saved(3, SAVED.text, SAVED.times, since="2026-11-24T11:50")
    assert due([saved_now], at(11, 51), True) == []
    assert due([saved_now], at(16, 50), True) == [(saved_now, at(16, 50))]
    assert scheduled_id(3, at(11, 50)) == "s3-202611241150"
