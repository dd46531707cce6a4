"""Reflex configuration. The database URL and data directory come from chatapp's settings."""

import reflex as rx

from chatapp.core.config import get_settings

settings = get_settings()

config = rx.Config(
    app_name="chatapp",
    db_url=settings.database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
