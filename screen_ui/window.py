"""Opening a HallQ screen's Kivy window, and saving what it shows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kivy.config import Config

from screen_ui.colours import BACKGROUND
from screen_ui.settings import ScreenSettings
from screen_ui.widgets import register_cjk_font


def configure_kivy(settings: ScreenSettings) -> None:
    """Window size, fullscreen, cursor and input: set before Kivy opens its window."""
    Config.set("graphics", "width", str(settings.window_width))
    Config.set("graphics", "height", str(settings.window_height))
    Config.set("graphics", "fullscreen", "auto" if settings.fullscreen else "0")
    Config.set("graphics", "show_cursor", "1" if settings.show_cursor else "0")
    # A hall's screen has no keyboard to bring it back: Esc must not end it.
    Config.set("kivy", "exit_on_escape", "0" if settings.fullscreen else "1")
    # No multitouch emulation: a right click must not leave red dots on the screen.
    Config.set("input", "mouse", "mouse,multitouch_on_demand")


def save_screen(target: Path) -> None:
    """Write what the window shows to `target` (a PNG), replacing the one before."""
    from kivy.core.window import Window

    target.parent.mkdir(parents=True, exist_ok=True)
    written = Window.screenshot(name=str(target.with_name(f"{target.stem}-shot.png")))
    if written:  # Kivy numbers the file (…-shot0001.png): keep one, at a fixed name
        os.replace(written, target)


def open_window(settings: ScreenSettings) -> Any:
    """Set Kivy up for this screen, make the CJK font every label's, open the window in the
    screens' background colour; the window."""
    configure_kivy(settings)
    register_cjk_font(settings.font_path)
    from kivy.core.window import Window  # opens the window, with the config above

    Window.clearcolor = BACKGROUND
    return Window
