"""The Reflex app: the dashboard pages plus our FastAPI app for the widget and scripts."""

import reflex as rx
from reflex_base.registry import RegistrationContext

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
    invite,
    login,
    playground,
    settings,
    sources,
    team,
)
from chatapp.workers import ingest as worker


def add_pages_once(target: rx.App) -> None:
    """Add the `@rx.page` pages to the app now, and only now.

    Reflex adds the decorated pages at every compile; `reflex run --env prod` compiles in the
    command's process, then the backend worker (forked from it, the app already holding its
    pages) compiles again, which logged "Page ... is being redefined" for every route.
    """
    context = RegistrationContext.ensure_context()
    for render, options in context.decorated_pages:
        target.add_page(render, **options)
    context.decorated_pages.clear()


install_reflex_cors()  # admin routes get no CORS from Reflex's blanket layer (api/cors.py)
# a11y.css: focus rings of 3:1 and more, the skip link, text for screen readers only.
app = rx.App(api_transformer=create_api(), stylesheets=["/a11y.css"])
add_pages_once(app)


app.register_lifespan_task(worker.serving)  # the ingest worker while the backend serves
