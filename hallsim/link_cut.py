"""A hall's link to the city that a test or a simulation can cut: a TCP relay on loopback.

`up`: bytes pass both ways. `down`: every connection is closed at once, as a link that
is cut (the hub sees a reset and tries again later). `lose_answers`: the request reaches
the city, which applies it, but its answer never comes back (the hub sends the same
batch again: the city must recognise it).
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Literal

Mode = Literal["up", "down", "lose_answers"]


class CuttableLink:
    """Listens on a free loopback port and relays to 127.0.0.1:`target_port`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode: Mode = "up"
        self.connections = 0
        self.refused = 0  # connections closed while down
        self.answers_lost = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=f"link-{self.port}",
                                        daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            mode = self.mode
            if mode == "down":
                self.refused += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # a reset, as a cut line gives
                continue
            threading.Thread(target=self._relay, args=(client, mode), daemon=True).start()

    def _relay(self, client: socket.socket, mode: Mode) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        except OSError:
            client.close()
            return
        up = threading.Thread(target=_pump, args=(client, upstream), daemon=True)
        up.start()
        if mode == "lose_answers":
            _drain(upstream)  # the city answered; the answer is lost on the way
            self.answers_lost += 1
            _cut(client)
        else:
            _pump(upstream, client)
        up.join(timeout=30)
        upstream.close()
        client.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _drain(src: socket.socket) -> None:
    try:
        while src.recv(65536):
            pass
    except OSError:
        pass


def _cut(sock: socket.socket) -> None:
    """Close both ways now (a plain close would wait for the thread reading it)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
