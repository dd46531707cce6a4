"""Contacts over HTTP: a contact's personal data, downloaded as JSON (any member) or erased (owners
and admins), and the widget's lead form, which makes a contact (public, by widget key). Thin: each
route calls one service."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.api.shared import widget_key
from chatapp.core.db import session_scope
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.contacts import leads, personal_data
from chatapp.services.contacts.schemas import LeadIn, LeadOut

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/contacts", tags=["contacts"])
public = APIRouter(tags=["public"])


class ErasedOut(BaseModel):
    contact_id: int
    conversations: int
    messages: int


@router.get(
    "/{contact_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def export_contact(
    contact_id: Id,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Everything stored about the contact: details, notes, conversations with their messages,
    action runs; as a JSON file download."""
    export = personal_data.export_contact(session, actor, contact_id)
    return Response(
        export.content,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.post("/{contact_id}/erase", response_model=ErasedOut)
def erase_contact(
    contact_id: Id,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Delete the contact and its conversations (messages, events, action runs) at once."""
    erased = personal_data.erase_contact(session, actor, contact_id)
    return ErasedOut(**vars(erased))


@public.post(
    "/api/public/leads",
    response_model=LeadOut,
    status_code=201,
    responses={
        401: {"description": "Invalid or missing widget key."},
        403: {"description": "Website not allowed, or bot paused."},
        404: {"description": "Unknown bot, or the bot has no enabled lead form."},
        422: {"description": "`{detail, errors: {field: message}}`."},
        429: {"description": "Too many submissions (see Retry-After)."},
    },
)
def post_lead(
    body: LeadIn,
    request: Request,
    authorization: str | None = Header(default=None),
    x_widget_key: str | None = Header(default=None),
):
    """The widget's lead form: the visitor's details become a contact of the bot's workspace,
    linked to their conversation."""
    fields = body.model_dump(include={"name", "email", "phone", "message"})
    try:
        with session_scope() as session:
            result = leads.submit(
                session,
                bot_id=body.bot_id,
                api_key=widget_key(body.api_key, authorization, x_widget_key),
                origin=request.headers.get("origin"),
                referer=request.headers.get("referer"),
                session_id=body.session_id,
                fields=fields,
            )
    except leads.LeadInvalid as exc:
        return JSONResponse({"detail": exc.message, "errors": exc.errors}, status_code=422)
    return LeadOut(contact_id=result.contact_id, message=result.message)
