"""Reads ESC/POS bytes back into what a printer would put on paper, for tests.

It knows only the commands our tickets use and raises ValueError on any other byte, so a
test never passes on a misread. Bytes 0x80-0xFF are accepted only inside Chinese mode
(`FS &` ... `FS .`), where they are read as GB18030: after `ESC @` the mode is whatever the
printer defaults to, so the ticket must switch it on itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, LF = 0x1B, 0x1D, 0x1C, 0x0A
ESC_ONE_PARAM = set(b"aE-Mt{r")  # align, bold, underline, font, code page, flip, colour
GS_ONE_PARAM = set(b"Bb")  # invert, smooth
QR_CN = 0x31  # GS ( k cn for QR Code


@dataclass
class Printed:
    """One ticket as printed: its text lines, QR codes, large text and whether it was cut."""

    lines: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    big: list[str] = field(default_factory=list)
    cut: bool = False


def read_escpos(data: bytes) -> Printed:
    """Decode the bytes of exactly one ticket (at most one cut, at the end)."""
    tickets = read_tickets(data)
    if len(tickets) != 1:
        raise ValueError(f"expected one ticket, found {len(tickets)}")
    return tickets[0]


def read_tickets(data: bytes) -> list[Printed]:
    """Decode a stream of tickets; each cut ends one."""
    return _Reader(data).run()


class _Reader:
    """A cursor over the bytes and the printer state they set."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.tickets: list[Printed] = []
        self.cur, self.touched = Printed(), False
        self.line: list[str] = []
        self.big_run: list[str] = []
        self.chinese, self.width, self.height = False, 1, 1
        self.qr_stored: bytes | None = None

    def run(self) -> list[Printed]:
        while self.pos < len(self.data):
            self.touched = True
            self.step()
        if self.line:
            raise ValueError(f"text never printed (no LF at the end): {''.join(self.line)!r}")
        if self.touched or not self.tickets:
            self.tickets.append(self.cur)
        return self.tickets

    def take(self, n: int) -> bytes:
        """The next n bytes; the stream must have them."""
        if self.pos + n > len(self.data):
            raise ValueError(f"command truncated at offset {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def step(self) -> None:
        at, b = self.pos, self.take(1)[0]
        if b == LF:
            self.end_line()
        elif b == ESC:
            self.esc(self.take(1)[0])
        elif b == GS:
            self.gs(self.take(1)[0])
        elif b == FS:
            c = self.take(1)[0]
            if c not in b"&.":
                raise ValueError(f"unknown command FS 0x{c:02x} at offset {at}")
            self.chinese = c == ord("&")
        elif 0x20 <= b < 0x7F:
            self.char(chr(b))
        elif b >= 0x80 and self.chinese:
            self.char(self.gb18030(b, at))
        elif b >= 0x80:
            raise ValueError(f"byte 0x{b:02x} outside Chinese mode at offset {at}")
        else:
            raise ValueError(f"unknown control byte 0x{b:02x} at offset {at}")

    def esc(self, c: int) -> None:
        if c == ord("@"):  # initialise: the print buffer is cleared
            self.line, self.big_run = [], []
            self.chinese, self.width, self.height = False, 1, 1
        elif c == ord("!"):  # print mode: bit 4 double height, bit 5 double width
            n = self.take(1)[0]
            self.width, self.height = 1 + (n >> 5 & 1), 1 + (n >> 4 & 1)
        elif c == ord("d"):  # print and feed n lines
            n = self.take(1)[0]
            if n == 0 and self.line:
                self.end_line()
            for _ in range(n):
                self.end_line()
        elif c in ESC_ONE_PARAM:
            self.take(1)
        else:
            raise ValueError(f"unknown command ESC 0x{c:02x} at offset {self.pos - 2}")

    def gs(self, c: int) -> None:
        if c == ord("!"):  # character size: high nibble width - 1, low nibble height - 1
            n = self.take(1)[0]
            if n >> 4 > 7 or n & 0x0F > 7:
                raise ValueError(f"bad GS ! size 0x{n:02x}")
            self.width, self.height = 1 + (n >> 4), 1 + (n & 0x0F)
        elif c == ord("V"):  # cut; only valid at the beginning of a line
            if self.take(1)[0] in (65, 66):
                self.take(1)  # feed before the cut
            if self.line:
                raise ValueError(f"cut with unprinted text {''.join(self.line)!r}")
            self.cur.cut = True
            self.tickets.append(self.cur)
            self.cur, self.touched = Printed(), False
        elif c == ord("("):
            self.gs_paren()
        elif c in GS_ONE_PARAM:
            self.take(1)
        else:
            raise ValueError(f"unknown command GS 0x{c:02x} at offset {self.pos - 2}")

    def gs_paren(self) -> None:
        """GS ( k pL pH cn fn [m] [data]: 2D code functions (QR only)."""
        if self.take(1) != b"k":
            raise ValueError(f"unknown command GS ( at offset {self.pos - 3}")
        size = int.from_bytes(self.take(2), "little")
        body = self.take(size)
        if size < 2 or body[0] != QR_CN:
            raise ValueError(f"unsupported GS ( k body {body[:2]!r}")
        fn, args = chr(body[1]), body[2:]
        if fn == "A" and len(args) == 2 and args[0] in (49, 50, 51) and args[1] == 0:
            pass  # model
        elif fn == "C" and len(args) == 1 and 1 <= args[0] <= 16:
            pass  # module size
        elif fn == "E" and len(args) == 1 and 48 <= args[0] <= 51:
            pass  # error correction level
        elif fn == "P" and args[:1] == b"0":
            self.qr_stored = args[1:]
        elif fn == "Q" and args == b"0":
            if self.qr_stored is None:
                raise ValueError("QR print with no data stored")
            self.cur.qr.append(self.qr_stored.decode("utf-8"))
        else:
            raise ValueError(f"unsupported QR function {fn!r} with {args!r}")

    def gb18030(self, lead: int, at: int) -> str:
        """One GB18030 character (2 or 4 bytes) starting with the lead byte."""
        second = self.take(1)
        raw = bytes([lead]) + second + (self.take(2) if 0x30 <= second[0] <= 0x39 else b"")
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as e:
            raise ValueError(f"bad GB18030 bytes {raw!r} at offset {at}") from e

    def char(self, ch: str) -> None:
        self.line.append(ch)
        if self.width > 1 or self.height > 1:
            self.big_run.append(ch)
        else:
            self.end_big_run()

    def end_big_run(self) -> None:
        if text := "".join(self.big_run).strip():
            self.cur.big.append(text)
        self.big_run = []

    def end_line(self) -> None:
        self.end_big_run()
        self.cur.lines.append("".join(self.line))
        self.line = []
