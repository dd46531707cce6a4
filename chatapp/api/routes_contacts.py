"""A contact's personal data over HTTP: download it as JSON (any member), erase it (owners and
admins). Thin: each route calls one service of `contact_data`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.contacts import personal_data

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/contacts", tags=["contacts"])


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
