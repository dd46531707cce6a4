"""The Reflex app: the dashboard pages plus our FastAPI app for the widget and scripts."""

import contextlib

import reflex as rx

from chatapp.api.app import create_api
from chatapp.api.cors import install_reflex_cors
from chatapp.pages import (  # noqa: F401  (registers the pages)
    account,
    actions,
    activity,
    analytics,
    bots,
    connect,
    contacts,
    inbox,
    login,
    playground,
    settings,
    sources,
    team,
)
from chatapp.services.config import get_settings
from chatapp.services.ingest import worker

install_reflex_cors()  # admin routes get no CORS from Reflex's blanket layer (api/cors.py)
app = rx.App(api_transformer=create_api())


@contextlib.asynccontextmanager
async def ingest_worker():
    """Run the background ingest worker for as long as the backend serves (not while compiling)."""
    if get_settings().ingest_worker:
        worker.start()
    try:
        yield
    finally:
        worker.stop()


app.register_lifespan_task(ingest_worker)
