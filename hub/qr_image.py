"""QR codes the hub draws for phones (an appointment's code): SVG to show, PNG to save.

Pure Python on qrcode's module matrix (no Pillow on the hub): the PNG is written with zlib
and struct, one byte a pixel, grey scale.
"""

from __future__ import annotations

import struct
import zlib

import qrcode


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True: dark), with the standard quiet zone of 4."""
    qr = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def qr_svg(data: str, size_px: int = 240) -> str:
    """An inline SVG of the code, crisp at any size."""
    matrix = qr_matrix(data)
    n = len(matrix)
    path = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix)
                   for x, dark in enumerate(row) if dark)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_px}" '
            f'height="{size_px}" shape-rendering="crispEdges" role="img" aria-label="预约二维码">'
            f'<rect width="{n}" height="{n}" fill="#fff"/><path d="{path}" fill="#000"/></svg>')


def qr_png(data: str, scale: int = 8) -> bytes:
    """The code as a PNG file, `scale` pixels a module (to save on the phone)."""
    matrix = qr_matrix(data)
    rows = b"".join(
        b"\x00" + bytes(0 if dark else 255 for dark in row for _ in range(scale))
        for row in matrix for _ in range(scale))
    side = len(matrix) * scale

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
