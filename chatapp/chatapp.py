"""The Reflex app: the dashboard pages plus our FastAPI app for the widget and scripts."""

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
from chatapp.workers import ingest as worker

install_reflex_cors()  # admin routes get no CORS from Reflex's blanket layer (api/cors.py)
app = rx.App(api_transformer=create_api())


app.register_lifespan_task(worker.serving)  # the ingest worker while the backend serves
