"""Admin API: the workspace's audit log, newest first (owners and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, current_actor
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor

router = APIRouter(prefix="/api/v1/workspaces", tags=["audit"])


class AuditEntryOut(BaseModel):
    id: int
    created_at: datetime
    actor: str
    user_id: int | None
    action: str
    target_type: str
    target_id: str
    changes: dict[str, Any]
    ip: str


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    total: int
    page: int
    per_page: int


@router.get("/{workspace_id}/audit", response_model=AuditPageOut)
def list_audit(
    page: int = Query(1, ge=1, le=1_000_000),
    per_page: int = Query(50, ge=1, le=audit.MAX_PER_PAGE),
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    result = audit.list_entries(session, actor, page=page, per_page=per_page)
    entries = [AuditEntryOut.model_validate(e, from_attributes=True) for e in result.entries]
    return AuditPageOut(entries=entries, total=result.total, page=page, per_page=result.per_page)
