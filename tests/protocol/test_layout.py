"""The layout rules: programs never import each other, only the shared packages; protocol
imports none of ours, printing only protocol; each program loads only its extra's
dependencies."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("hub", "kiosk", "caller_display")
SHARED = ("protocol", "printing", "screen_ui")
OURS = (*PROGRAMS, *SHARED, "hallsim")


def imported_packages(package: str) -> set[str]:
    """Top-level packages of ours that `package` imports anywhere."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found |= {n.split(".")[0] for n in names if n.split(".")[0] in OURS}
    return found - {package}


@pytest.mark.parametrize("program", PROGRAMS)
def test_programs_import_only_the_shared_packages(program: str) -> None:
    assert imported_packages(program) <= set(SHARED)


def test_protocol_imports_none_of_ours() -> None:
    assert imported_packages("protocol") == set()


def test_printing_imports_only_protocol() -> None:
    assert imported_packages("printing") == {"protocol"}


@pytest.mark.parametrize(("modules", "forbidden"), [
    (["kiosk.core", "kiosk.ticket_print", "kiosk.ui.texts", "kiosk.ui.theme"],
     ["flask", "sqlalchemy", "kivy"]),
    (["caller_display.caller_core", "caller_display.main_screen"], ["flask", "sqlalchemy",
                                                                     "escpos"]),
    (["printing.printers", "printing.notice_slip"], ["flask", "sqlalchemy", "kivy",
                                                     "escpos"]),  # escpos on first slip
    (["hub.app"], ["kivy", "escpos"]),
])
def test_each_program_needs_only_its_extra(modules: list[str], forbidden: list[str]) -> None:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + f"print([m for m in {forbidden!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]", f"{modules} loaded {out}"


def test_kiosk_app_loads_kivy_without_opening_a_window(tmp_path: Path) -> None:
    """Only the touch app needs Kivy; importing it must leave the window to `build()`,
    which sets the window's size and mode first."""
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_HOME": str(tmp_path),
           "KIVY_LOG_MODE": "PYTHON", "KIVY_NO_CONSOLELOG": "1"}
    code = ("import sys\nimport kiosk.app\n"
            "print([m for m in ['kivy', 'kivy.core.window', 'flask', 'sqlalchemy']"
            " if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=env).stdout.strip()
    assert out == "['kivy']"
