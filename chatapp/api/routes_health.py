"""GET /api/health: is the database reachable, which version runs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from chatapp import __version__
from chatapp.services.db import ping

router = APIRouter()


@router.get("/api/health", tags=["health"])
def health() -> JSONResponse:
    try:
        ping()
        database = "ok"
    except SQLAlchemyError:
        database = "unreachable"
    status = "ok" if database == "ok" else "degraded"
    body = {"status": status, "version": __version__, "checks": {"database": database}}
    return JSONResponse(body, status_code=200 if status == "ok" else 503)
