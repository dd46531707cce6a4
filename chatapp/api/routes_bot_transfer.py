"""A bot's export and import over HTTP (owners, admins and API tokens): one JSON file.

`GET .../bots/{bot_id}/export` answers the bot file as an attachment; `POST .../bots/import`
takes it as a multipart upload (field `file`) or as the request body (`application/json`) and
answers 201 with the new bot, or 422 `{detail, errors: [...]}` listing every problem, 413 over
BOT_TRANSFER_MAX_MB. Thin: each route calls one service (services/bots/bot_export.py,
bot_import.py); reading the upload is capped here so an oversized body is not kept whole.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import UploadFile

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.core.db import session_scope
from chatapp.core.errors import ServiceError, ValidationFailed
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bot_export, bot_import, transfer_format
from chatapp.services.models import BotPublic

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/bots", tags=["bot transfer"])

MULTIPART_ROOM = 64 * 1024  # a form's boundaries and headers around the file
ERRORS = {
    413: {"description": "The file is over BOT_TRANSFER_MAX_MB."},
    415: {"description": "Neither a multipart upload nor a JSON body."},
}
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/json": {
                "schema": {"type": "object", "description": "The bot file itself (docs/API.md)."}
            },
        },
    }
}


class WrongContentType(ServiceError):
    status = 415


class ImportOut(BaseModel):
    bot: BotPublic
    sources: int
    pages: int
    passages: int
    actions: int
    queued: int
    to_fill_in: list[str]
    notes: list[str]


@router.get(
    "/{bot_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **ERRORS},
)
def export_bot(
    bot_id: Id,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """The bot file: settings, sources with their files and passages, actions without their
    secrets (listed in `to_fill_in`), audiences; as a JSON download."""
    export = bot_export.export_bot(session, actor, bot_id)
    return Response(
        export.content,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.post(
    "/import",
    response_model=ImportOut,
    status_code=201,
    openapi_extra=IMPORT_BODY,
    responses={
        422: {"description": "The file cannot be imported: `{detail, errors: [...]}`."},
        **ERRORS,
    },
)
async def import_bot(request: Request, actor: Actor = Depends(current_actor)):
    """A bot file as a new bot of this workspace (its name gets " (2)" if taken); nothing is
    written unless all of it is valid. Actions with secrets to fill in are created switched
    off."""
    raw = await _bot_file(request)
    try:
        return await run_in_threadpool(_import, actor, raw)
    except transfer_format.BotFileInvalid as exc:
        return JSONResponse({"detail": exc.message, "errors": exc.problems}, status_code=422)


def _import(actor: Actor, raw: bytes) -> ImportOut:
    with session_scope() as session:
        result = bot_import.import_bot(session, actor, raw)
        return ImportOut(
            bot=BotPublic.model_validate(result.bot, from_attributes=True),
            sources=result.sources,
            pages=result.pages,
            passages=result.passages,
            actions=result.actions,
            queued=result.queued,
            to_fill_in=result.to_fill_in,
            notes=result.notes,
        )


async def _bot_file(request: Request) -> bytes:
    """The uploaded file or the JSON body, read up to one byte over the limit."""
    limit = transfer_format.limit_bytes()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_ROOM:
        raise transfer_format.too_large(int(declared))
    kind = request.headers.get("content-type", "").lower()
    if kind.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("Send the bot file in the form field 'file'.")
        return await upload.read(limit + 1)
    if "json" in kind:
        parts, total = [], 0
        async for chunk in request.stream():
            parts.append(chunk)
            total += len(chunk)
            if total > limit:
                raise transfer_format.too_large()
        return b"".join(parts)
    raise WrongContentType(
        "Send the bot file as multipart/form-data (field 'file') or as the request body with "
        "Content-Type: application/json."
    )
