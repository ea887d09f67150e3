"""Files the portal hands out over plain HTTP routes beside the sign-in routes (not the websocket):
the staff queue as CSV and a signed agreement as PDF. Each route re-checks the session cookie."""

from __future__ import annotations

from starlette.routing import Route

from immtrax_portal.downloads import queue_csv, signed_agreement


def download_routes() -> list[Route]:
    return [*queue_csv.routes(), *signed_agreement.routes()]
