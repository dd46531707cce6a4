"""The FastAPI app the widget, scripts and the health check talk to; Reflex mounts it.

`create_api()` builds a fresh app each call: Reflex 0.10 takes it through `api_transformer`, and a
FastAPI app that already served requests cannot be mounted again.
"""

from __future__ import annotations

from fastapi import FastAPI

from chatapp import __version__
from chatapp.api import (
    routes_actions,
    routes_audit,
    routes_auth,
    routes_avatars,
    routes_bot_transfer,
    routes_chat_admin,
    routes_chatbase,
    routes_contacts,
    routes_health,
    routes_inbox,
    routes_invitations,
    routes_live,
    routes_metrics,
    routes_openai,
    routes_public,
    routes_sources,
    routes_tokens,
    routes_workspaces,
)
from chatapp.api.cors import PublicCORS
from chatapp.api.docs import install_docs
from chatapp.api.errors import install_error_handlers
from chatapp.api.headers import SecurityHeaders
from chatapp.api.nul_guard import NulGuard
from chatapp.api.observe import RequestObserver
from chatapp.core import logs
from chatapp.core.config import get_settings


def create_api() -> FastAPI:
    settings = get_settings()
    logs.configure(settings.log_format_used, settings.log_level)
    app = FastAPI(
        title="Chatapp API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(app)
    install_docs(app, title="Chatapp API", openapi_url="/api/openapi.json")
    app.include_router(routes_health.router)
    app.include_router(routes_auth.router)
    app.include_router(routes_workspaces.router)
    app.include_router(routes_invitations.router)
    app.include_router(routes_bot_transfer.router)
    app.include_router(routes_sources.router)
    app.include_router(routes_tokens.router)
    app.include_router(routes_chat_admin.router)
    app.include_router(routes_public.router)
    app.include_router(routes_openai.router)
    app.include_router(routes_live.router)
    app.include_router(routes_inbox.router)
    app.include_router(routes_avatars.router)
    app.include_router(routes_actions.router)
    app.include_router(routes_contacts.router)
    app.include_router(routes_contacts.public)
    app.include_router(routes_audit.router)
    app.include_router(routes_metrics.router)
    app.include_router(routes_chatbase.router)  # Chatbase API v1 for moving customers
    app.add_middleware(NulGuard)  # inside PublicCORS: its refusals carry CORS headers
    app.add_middleware(PublicCORS)
    app.add_middleware(SecurityHeaders, hsts_seconds=get_settings().hsts_max_age)
    app.add_middleware(RequestObserver)  # outermost of ours: ids and metrics cover CORS refusals
    return app
