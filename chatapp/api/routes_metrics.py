"""GET /metrics: the Prometheus exposition, behind `METRICS_TOKEN` (Bearer) when it is set.

Not part of the public API: no CORS headers of ours, not in the OpenAPI schema.
"""

from __future__ import annotations

import hmac

import anyio.to_thread
from fastapi import APIRouter, Header
from fastapi.responses import Response

from chatapp.core import metrics
from chatapp.core.config import get_settings
from chatapp.core.errors import NotAuthenticated

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(authorization: str | None = Header(default=None)) -> Response:
    expected = get_settings().metrics_token
    if expected:
        given = (authorization or "")[7:].strip() if authorization else ""
        scheme_ok = (authorization or "").lower().startswith("bearer ")
        if not scheme_ok or not hmac.compare_digest(given.encode(), expected.encode()):
            raise NotAuthenticated("Send the metrics token as 'Authorization: Bearer <token>'.")
    body, content_type = await anyio.to_thread.run_sync(metrics.render)
    return Response(body, media_type=content_type)
