"""Workspace API tokens (`cat_...`) for scripts: create (the token is shown once), list, revoke.

Owners and admins manage them; a token acts in its workspace only, like a member.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.services.accounts import api_tokens
from chatapp.services.accounts.schemas import TokenIn, TokenOut
from chatapp.services.accounts.tenancy import Actor

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}", tags=["api tokens"])


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(
    body: TokenIn, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    token, plain = api_tokens.create_token(session, actor, name=body.name)
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        revoked_at=None,
        token=plain,
    )


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    return [
        TokenOut(
            id=t.id, name=t.name, prefix=t.prefix, created_at=t.created_at, revoked_at=t.revoked_at
        )
        for t in api_tokens.list_tokens(session, actor)
    ]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
) -> None:
    api_tokens.revoke_token(session, actor, token_id)
