"""Reflex configuration; every value comes from immtrax_portal.settings."""

import reflex as rx

from immtrax_portal.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="immtrax_portal",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # The event websocket accepts only the portal's own public origin.
    cors_allowed_origins=[settings.public_url],
    redis_url=settings.redis_url,
    # No Radix Themes: the pages are plain elements styled by assets/portal.css, and its stylesheet
    # (700 KB, parsed on every first paint) would style nothing of theirs.
    plugins=[],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
