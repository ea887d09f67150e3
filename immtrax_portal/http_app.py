"""The Starlette app in front of Reflex: which plain HTTP routes share the port, and how they fail.

Assembling the routes here, rather than in one of the route modules, keeps those modules free of
each other: the sign-in routes (``auth.routes``), the downloads (``downloads``) and the
benchmark's query counter only export their routes, and this module wires them together.
"""

from __future__ import annotations

import logging

import sqlalchemy.exc as sa_exc
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from immtrax_portal import query_counter
from immtrax_portal.auth import pages
from immtrax_portal.auth.routes import auth_routes
from immtrax_portal.db import is_database_unavailable
from immtrax_portal.downloads import download_routes
from immtrax_portal.security_headers import SecurityHeadersMiddleware
from immtrax_portal.services.change_feed import FEED
from immtrax_portal.settings import get_settings

_log = logging.getLogger(__name__)


def database_unavailable(request: Request, exc: Exception) -> Response:
    """A database that cannot be reached gets a plain 503 page instead of a bare 500 (Starlette
    raises anything else on, to its own error page and the log)."""
    if not is_database_unavailable(exc):
        raise exc
    _log.error("database unavailable on %s: %s", request.url.path, " ".join(str(exc).split())[:300])
    return pages.database_unavailable_page()


def _feed_counts() -> dict[str, int]:
    return {"feed_polls": FEED.polls, "feed_listeners": FEED.listeners}


def debug_routes() -> list[Route]:
    """The benchmark's statement counter, only when ``IMMTRAX_DEBUG_QUERY_COUNTER`` is on."""
    return [query_counter.route(_feed_counts)] if get_settings().debug_query_counter else []


def build_http_app(extra_routes: list[Route] | tuple[Route, ...] = ()) -> Starlette:
    """A Starlette app with the sign-in and download routes (and any other server routes given):
    what the tests serve, and what the Reflex app's ``api_transformer`` mounts in front of itself.
    Its middleware puts the security headers on every HTTP response of the port, Reflex's pages and
    assets included; a database that cannot be reached gets a plain 503 page."""
    return Starlette(routes=[*auth_routes(), *download_routes(), *extra_routes],
                     middleware=[Middleware(SecurityHeadersMiddleware)],
                     exception_handlers={sa_exc.DBAPIError: database_unavailable,
                                         sa_exc.DisconnectionError: database_unavailable,
                                         sa_exc.TimeoutError: database_unavailable})
