"""Pages that belong to one citizen (a ticket, a booking): kept nowhere but on the phone."""

from __future__ import annotations

from flask import Response


def private(response: Response) -> Response:
    """Nothing kept in caches or history servers, and the link never sent onwards."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
