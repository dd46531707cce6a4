"""GET /api/health: each dependency's state (services/health.py), 503 when a required one is down.

The LLM provider is asked for its model list at most once a minute; `?deep=1` asks it now.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from chatapp import __version__
from chatapp.services.ops import health as health_checks

router = APIRouter()


@router.get("/api/health", tags=["health"])
async def health(
    deep: bool = Query(
        default=False, description="Ask the LLM provider now, not the last minute's answer."
    ),
) -> JSONResponse:
    result = await anyio.to_thread.run_sync(lambda: health_checks.report(deep=deep))
    body = {"status": result["status"], "version": __version__, "checks": result["checks"]}
    return JSONResponse(body, status_code=503 if result["status"] == "down" else 200)
