"""The Reflex app: the dashboard pages plus our FastAPI app for the widget and scripts."""

import reflex as rx

from chatapp.api.app import create_api
from chatapp.pages import account, bots, login, team  # noqa: F401  (registers the pages)

app = rx.App(api_transformer=create_api())
