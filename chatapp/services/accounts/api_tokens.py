"""Workspace API tokens for scripts (seed 004): shown once, stored as SHA-256, revocable.

A token acts in its workspace with the admin role, on behalf of the member who created it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from chatapp.core import security
from chatapp.core.errors import NotAuthenticated
from chatapp.core.schemas import parse
from chatapp.services.accounts import audit, security_events
from chatapp.services.accounts.schemas import TokenIn
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.models import ApiToken, Membership, Role, User, utcnow

TOKEN_PREFIX = "cat_"
LAST_USED_PRECISION = timedelta(minutes=1)  # how fresh a token's "last used" is kept


def is_api_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def create_token(session: Session, actor: Actor, *, name: str) -> tuple[ApiToken, str]:
    actor.require(Permission.MANAGE_SETTINGS)
    name = parse(TokenIn, name=name).name
    plain = security.new_token(TOKEN_PREFIX)
    token = ApiToken(
        workspace_id=actor.workspace_id,
        name=name,
        token_hash=security.hash_token(plain),
        prefix=plain[:12],
        created_by=actor.user_id,
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.create", "api_token", token.id, {"name": [None, name]})
    return token, plain


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    actor.require(Permission.MANAGE_SETTINGS)
    return list(session.exec(scoped_select(actor, ApiToken).order_by(col(ApiToken.id).desc())))


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    actor.require(Permission.MANAGE_SETTINGS)
    token = get_scoped(session, actor, ApiToken, token_id, "Token")
    if token.revoked_at is None:
        audit.record(
            session, actor, "token.revoke", "api_token", token.id, {"name": [token.name, None]}
        )
    token.revoked_at = token.revoked_at or utcnow()
    session.add(token)
    session.flush()


def actor_for_token(session: Session, plain: str, workspace_id: int) -> Actor:
    """The actor a script's token stands for; refused if revoked or for another workspace."""
    token = session.exec(
        select(ApiToken).where(ApiToken.token_hash == security.hash_token(plain))
    ).first()
    if token is None or token.revoked_at is not None:
        _refused("unknown" if token is None else "revoked", plain, workspace_id)
        raise NotAuthenticated("This API token is unknown or revoked.")
    if token.workspace_id != workspace_id:
        _refused("another workspace's token", plain, workspace_id)
        raise NotAuthenticated("This API token belongs to another workspace.")
    creator_still_member = session.exec(
        select(Membership.id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == token.created_by
        )
    ).first()
    if creator_still_member is None:
        _refused("its creator left the workspace", plain, workspace_id)
        raise NotAuthenticated("The member who created this API token has left the workspace.")
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        token.last_used_at = now  # a write per minute at most, not one per request
        session.add(token)
    creator = session.get(User, token.created_by)
    email = creator.email if creator else ""
    return Actor(token.created_by, workspace_id, Role.ADMIN, email=email, via=token.name)


def _refused(reason: str, plain: str, workspace_id: int) -> None:
    security_events.emit(
        security_events.API_TOKEN_REFUSED,
        reason,
        workspace_id=workspace_id,
        token_prefix=security_events.key_hint(plain, keep=8),
    )


def actor_in_own_workspace(session: Session, plain: str) -> Actor:
    """The actor a token stands for in the workspace it was made in, for APIs whose paths name
    no workspace (OpenAI- and Chatbase-compatible); refused exactly as `actor_for_token` is."""
    return token_in_own_workspace(session, plain)[1]


def token_in_own_workspace(session: Session, plain: str) -> tuple[int, Actor]:
    """The token's id (0 if unknown, then refused) and its actor in its own workspace."""
    row = session.exec(
        select(ApiToken.id, ApiToken.workspace_id).where(
            ApiToken.token_hash == security.hash_token(plain)
        )
    ).first()
    token_id, workspace_id = row if row is not None else (0, 0)
    return token_id, actor_for_token(session, plain, workspace_id)
