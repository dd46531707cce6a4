"""The API served on its own, without the dashboard: `python -m chatapp serve-api`.

The single-port app (`reflex run --env prod --single-port`) serves dashboard, API and widget from
one process. Visitors' traffic (the widget's scripts, `/api/chat`, `/api/public/*`) can also be
served by processes of their own, as many as the machine has cores, behind the same public URL:
the reverse proxy sends those paths here and everything else to the app (docs/DEPLOYMENT.md).
Several processes need what several processes share: PostgreSQL, and Redis for rate limits and
live events; the embedded vector index is derived per process from the database.
This server answers every API route (the same `create_api()`), and runs the ingest worker
(`INGEST_WORKER`), which claims sources through the database, so any number may run.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chatapp.api.app import create_api
from chatapp.workers import ingest as worker

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def create_visitor_server() -> FastAPI:
    """`create_api()` with `/widget.js` and the other built assets at the root (granian factory)."""
    app = create_api()
    app.mount("/", StaticFiles(directory=ASSETS, check_dir=False), name="assets")
    app.router.lifespan_context = worker.serving
    return app


def granian_command(executable: str, *, host: str, port: int, workers: int) -> list[str]:
    """The command that serves `create_visitor_server` with `workers` processes."""
    return [
        executable,
        "--interface",
        "asgi",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "chatapp.api.visitors:create_visitor_server",
    ]
