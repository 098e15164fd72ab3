"""The dashboard's HTTP server (waitress) in a thread, with a stop that really stops."""

from __future__ import annotations

import threading

from flask import Flask
from waitress.server import create_server


class WebServer:
    """waitress serving `app` on host:port (0: any free port) until `stop()`."""

    def __init__(self, app: Flask, host: str, port: int, threads: int = 16) -> None:
        # Each open live page holds one thread (server-sent events); lookahead lets
        # waitress notice a closed tab at once instead of at the next write.
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     channel_request_lookahead=1)
        self.host = host
        self.port: int = self._server.effective_port
        self._thread = threading.Thread(target=self._server.run, name="hub-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close every connection from the server's own loop, then its worker threads."""
        if not self._thread.is_alive():
            return  # never started, or stopped already
        server = self._server
        try:
            server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))
        except OSError:  # the loop closed its trigger already: close what is left from here
            server.asyncore.close_all(server._map, ignore_all=True)
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()
