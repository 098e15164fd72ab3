"""The widgets of every HallQ screen: flat touch buttons, wrapping labels, coloured panels,
tile grids, a QR code, and the CJK font they all need."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qrcode
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from screen_ui.colours import BRAND, DISABLED, INK, PANEL, WHITE, Rgba, darker


def register_cjk_font(path: Path) -> None:
    """Make a CJK font the default of every label; Kivy's Roboto draws Chinese as boxes."""
    if not path.is_file():
        raise FileNotFoundError(f"CJK font {path} missing: apt install fonts-wqy-microhei, "
                                "or set the screen's FONT_PATH setting")
    # Kivy reads face 0 of a .ttc: for WenQuanYi Micro Hei the proportional face (1 is Mono);
    # for Noto CJK it would be the Japanese one.
    LabelBase.register(DEFAULT_FONT, str(path))


class Panel(BoxLayout):
    """A box with a flat background colour."""

    def __init__(self, bg: Rgba = PANEL, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            self._color = Color(*bg)
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._fit, size=self._fit)

    def _fit(self, *_: object) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size

    def set_bg(self, bg: Rgba) -> None:
        """Change the background colour."""
        self._color.rgba = bg


class TextLabel(Label):
    """A label that wraps at its width and is as tall as its text (unless given a size_hint_y:
    then it fills that share and centres the text in it)."""

    def __init__(self, text: str = "", *, font_size: float, color: Rgba = INK,
                 halign: str = "left", bold: bool = False, size_hint_y: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(text=text, font_size=font_size, color=color, halign=halign,
                         valign="middle", bold=bold, size_hint_y=size_hint_y, **kwargs)
        self.bind(width=self._wrap)
        if size_hint_y is None:
            self.height = 0  # not Kivy's default 100: an empty label takes no room
            self.bind(texture_size=self._grow)

    def _wrap(self, *_: object) -> None:
        self.text_size = (self.width, None)

    def _grow(self, *_: object) -> None:
        self.height = self.texture_size[1]


class FitLabel(Label):
    """One line of text as large as its wanted size or as fits its box, aligned in it."""

    def __init__(self, text: str = "", *, font_size: float, color: Rgba = INK,
                 bold: bool = False, halign: str = "center", **kwargs: Any) -> None:
        super().__init__(text=text, font_size=font_size, color=color, bold=bold,
                         halign=halign, valign="middle", **kwargs)
        self.wanted = font_size
        self.bind(size=self._fit, text=self._fit)

    def want(self, font_size: float) -> None:
        """The size the text has when it fits."""
        self.wanted = font_size
        self._fit()

    def _fit(self, *_: object) -> None:
        self.text_size = self.size
        if not self.text or self.width < 2 or self.height < 2:
            return
        w, h = CoreLabel(font_size=self.wanted, bold=self.bold).get_extents(self.text)
        shrink = min(1.0, self.width * 0.97 / max(w, 1), self.height / max(h, 1))
        self.font_size = max(8.0, self.wanted * shrink)


class TouchButton(Button):
    """A flat button: darker while pressed, grey when disabled, its text wrapped, centred
    and made smaller if a long name would not fit (another hall's catalogue)."""

    def __init__(self, text: str, *, font_size: float, bg: Rgba = BRAND, fg: Rgba = WHITE,
                 on_tap: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(text=text, font_size=font_size, color=fg, markup=True,
                         halign="center", valign="middle", background_normal="",
                         background_down="", background_disabled_normal="",
                         background_disabled_down="", disabled_color=WHITE, **kwargs)
        self.bg = bg
        self.wanted_size = font_size
        self._paint()
        self.bind(state=self._paint, disabled=self._paint, size=self._wrap,
                  texture_size=self._shrink)
        if on_tap is not None:
            self.bind(on_release=lambda *_: on_tap())

    def _paint(self, *_: object) -> None:
        if self.disabled:
            self.background_color = DISABLED
        elif self.state == "down":
            self.background_color = darker(self.bg)
        else:
            self.background_color = self.bg

    def _wrap(self, *_: object) -> None:
        self.text_size = (max(1, self.width - 24), None)
        self.font_size = self.wanted_size  # a larger button may fit the full size again

    def _shrink(self, *_: object) -> None:
        if self.texture_size[1] > self.height - 8 and self.font_size > 16:
            size: float = max(16.0, self.font_size * 0.9)
            self.font_size = size

    def set_size(self, font_size: float) -> None:
        """The text's size when it fits."""
        self.wanted_size = self.font_size = font_size

    def set_bg(self, bg: Rgba) -> None:
        """Change the colour (the pressed and disabled looks follow)."""
        self.bg = bg
        self._paint()


class BigNumber(Label):
    """A ticket's number on one line, as large as `font_size` or as fits the width."""

    font_size: float  # Kivy's property; the annotation only tells mypy

    def __init__(self, text: str, *, font_size: float, color: Rgba, **kwargs: Any) -> None:
        super().__init__(text=text, font_size=font_size, color=color, bold=True,
                         size_hint_y=None, height=font_size * 1.2, **kwargs)
        self.wanted_size = font_size
        self.bind(width=self._regrow, texture_size=self._fit)

    def _regrow(self, *_: object) -> None:
        # Widgets start 100 px wide: a size shrunk to that must grow with the layout.
        self.font_size, self.height = self.wanted_size, self.wanted_size * 1.2

    def _fit(self, *_: object) -> None:
        if self.texture_size[0] > self.width > 0 and self.font_size > 16:
            size: float = max(16.0, self.font_size * self.width / self.texture_size[0] * 0.95)
            self.font_size, self.height = size, size * 1.2


class TileGrid(ScrollView):
    """Tiles in as many columns as fit, scrolling down when there are more."""

    def __init__(self, *, tile_width: float, tile_height: float, spacing: float,
                 min_cols: int = 1, max_cols: int = 8, **kwargs: Any) -> None:
        super().__init__(do_scroll_x=False, bar_width=14, scroll_type=["bars", "content"],
                         **kwargs)
        self.grid = GridLayout(cols=min_cols, spacing=spacing, size_hint_y=None,
                               row_default_height=tile_height, row_force_default=True)
        self.grid.bind(minimum_height=self.grid.setter("height"))
        self.add_widget(self.grid)
        self._tile_width, self._cols = tile_width, (min_cols, max_cols)
        self.bind(width=self._fit_cols)

    def _fit_cols(self, *_: object) -> None:
        low, high = self._cols
        self.grid.cols = max(low, min(high, int(self.width // self._tile_width)))

    def add(self, tile: Widget) -> None:
        """Add one tile at the end."""
        self.grid.add_widget(tile)


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True: dark), with a quiet zone of 2."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


class QrCode(Widget):
    """A QR code drawn square and crisp at any size (one texel per module, no smoothing)."""

    def __init__(self, data: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        matrix = qr_matrix(data)
        n = len(matrix)
        # RGBA keeps rows 4-byte aligned whatever n is; GL reads rows bottom up.
        pixels = bytes(v for row in reversed(matrix) for cell in row
                       for v in ((0, 0, 0, 255) if cell else (255, 255, 255, 255)))
        texture = Texture.create(size=(n, n), colorfmt="rgba")
        texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
        texture.mag_filter = texture.min_filter = "nearest"
        self.data = data
        with self.canvas:
            Color(1, 1, 1, 1)
            self._rect = Rectangle(texture=texture)
        self.bind(pos=self._fit, size=self._fit)

    def _fit(self, *_: object) -> None:
        side = min(self.width, self.height)
        self._rect.size = (side, side)
        self._rect.pos = (self.center_x - side / 2, self.center_y - side / 2)


_TEXTURES: OrderedDict[tuple[str, int, bool], Texture] = OrderedDict()
TEXTURE_CACHE = 512  # one-line texts kept drawn (a main screen shows ~100 distinct ones)


def text_texture(text: str, font_size: int, bold: bool) -> Texture:
    """`text` drawn white at `font_size`, from a shared cache: drawing text is what costs
    on a Pi's CPU, and a screen shows the same numbers and window names again and again."""
    key = (text, font_size, bold)
    texture = _TEXTURES.get(key)
    if texture is not None:
        _TEXTURES.move_to_end(key)
        return texture
    label = CoreLabel(text=text, font_size=font_size, bold=bold, color=(1, 1, 1, 1))
    label.refresh()
    texture = label.texture
    _TEXTURES[key] = texture
    if len(_TEXTURES) > TEXTURE_CACHE:
        _TEXTURES.popitem(last=False)
    return texture


class CachedText(Widget):
    """One line of text, as large as `font_size` or as fits its box, in `color`; drawn from
    the shared texture cache (the colour is the canvas's, so it costs no new drawing)."""

    is_text = True  # read like a label by the tests' screen drivers

    def __init__(self, text: str = "", *, font_size: float, color: Rgba = INK,
                 bold: bool = False, halign: str = "center", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wanted, self.bold, self.halign = font_size, bold, halign
        self.font_size = font_size  # the size drawn, once placed
        self._text = text
        with self.canvas:
            self._color = Color(*color)
            self._rect = Rectangle(size=(0, 0))
        self.bind(pos=self._place, size=self._place)

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._place()

    def want(self, font_size: float) -> None:
        """The size the text has when it fits."""
        if font_size != self.wanted:
            self.wanted = font_size
            self._place()

    @property
    def color(self) -> Rgba:
        r, g, b, a = self._color.rgba
        return (r, g, b, a)

    @color.setter
    def color(self, color: Rgba) -> None:
        self._color.rgba = color

    def _place(self, *_: object) -> None:
        if not self._text or self.width < 2 or self.height < 2:
            self._rect.size = (0, 0)
            return
        w, h = CoreLabel(font_size=self.wanted, bold=self.bold).get_extents(self._text)
        shrink = min(1.0, self.width * 0.97 / max(w, 1), self.height / max(h, 1))
        self.font_size = max(8, int(self.wanted * shrink))
        texture = text_texture(self._text, int(self.font_size), self.bold)
        tw, th = texture.size
        x = {"left": self.x, "right": self.right - tw}.get(self.halign,
                                                           self.center_x - tw / 2)
        self._rect.texture = texture
        self._rect.size = (tw, th)
        self._rect.pos = (round(x), round(self.center_y - th / 2))
