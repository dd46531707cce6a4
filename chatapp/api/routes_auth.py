"""Login, logout and "who am I" for scripts and the admin API (bearer session tokens)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, bearer_token, client_ip, current_user
from chatapp.services.accounts import auth, workspaces
from chatapp.services.models import User

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginRequest(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    remember: bool = False


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime


class WorkspaceOut(BaseModel):
    id: int
    name: str
    slug: str
    role: str


class MeResponse(BaseModel):
    id: int
    email: str
    name: str
    workspaces: list[WorkspaceOut]


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


@router.post("/auth/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, session: Session = REQUEST_SESSION):
    result = auth.login(
        session,
        email=body.email,
        password=body.password,
        remember=body.remember,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    return LoginResponse(token=result.token, expires_at=result.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(token: str = Depends(bearer_token), session: Session = REQUEST_SESSION) -> None:
    auth.logout(session, token)


@router.get("/me", response_model=MeResponse)
def me(user: User = Depends(current_user), session: Session = REQUEST_SESSION):
    views = workspaces.list_user_workspaces(session, user_id=user.id)
    return MeResponse(
        id=user.id,
        email=user.email,
        name=user.name,
        workspaces=[WorkspaceOut(**view.__dict__) for view in views],
    )


@router.post("/me/password", status_code=204)
def change_password(
    body: PasswordChange,
    token: str = Depends(bearer_token),
    user: User = Depends(current_user),
    session: Session = REQUEST_SESSION,
) -> None:
    auth.change_password(
        session,
        user_id=user.id,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_token=token,
    )
