"""GET /metrics: the Prometheus exposition, for whom the operator chose.

`METRICS_TOKEN` set: only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise). Not set: 403
unless `METRICS_PUBLIC=true` says that something else (a proxy, a firewall, a private bind)
already keeps the endpoint private; the counters describe the whole installation, so the
default is closed. Not part of the public API: no CORS headers of ours, not in the OpenAPI schema.
"""

from __future__ import annotations

import hmac

import anyio.to_thread
from fastapi import APIRouter, Header
from fastapi.responses import Response

from chatapp.core import metrics
from chatapp.core.config import get_settings
from chatapp.core.errors import NotAuthenticated, PermissionDenied

router = APIRouter()

CLOSED = (
    "Metrics are off until you choose who may read them: set METRICS_TOKEN (your scraper "
    "sends 'Authorization: Bearer <token>'), or METRICS_PUBLIC=true when a proxy or firewall "
    "already keeps /metrics private."
)


def _check_access(authorization: str | None) -> None:
    settings = get_settings()
    expected = settings.metrics_token
    if not expected:
        if not settings.metrics_public:
            raise PermissionDenied(CLOSED)
        return
    given = (authorization or "")[7:].strip() if authorization else ""
    scheme_ok = (authorization or "").lower().startswith("bearer ")
    if not scheme_ok or not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotAuthenticated("Send the metrics token as 'Authorization: Bearer <token>'.")


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(authorization: str | None = Header(default=None)) -> Response:
    _check_access(authorization)
    body, content_type = await anyio.to_thread.run_sync(metrics.render)
    return Response(body, media_type=content_type)
