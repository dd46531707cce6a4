"""Bot avatars for the widget on any website: public, immutable, with the checked content type.

The file names are random and a new upload gets a new name, so browsers may cache them for a year.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from chatapp.services.bots import avatars

router = APIRouter(tags=["public"])

CACHE = "public, max-age=31536000, immutable"


@router.get("/api/public/avatars/{name}", response_class=FileResponse)
def avatar(name: str) -> FileResponse:
    """A bot's avatar (64x64 PNG, JPEG or GIF) as stored by the dashboard; 404 otherwise."""
    path, content_type = avatars.avatar_file(name)
    return FileResponse(
        path,
        media_type=content_type,
        headers={"Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"},
    )
