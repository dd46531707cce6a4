"""Login, logout and "who am I" for scripts and the admin API (bearer session tokens); and the
dashboard's HttpOnly session cookie, which only these two browser routes set and clear (the admin
API itself never reads cookies, so a cross-site form cannot act with them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, bearer_token, client_ip, current_user
from chatapp.core.config import get_settings
from chatapp.core.errors import PermissionDenied
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


REDIRECTS = {303: {"description": "Back to the dashboard (the cookie set or cleared)."}}
DASHBOARD, LOGIN_PAGE = "/", "/login"


def _dashboard_url(request: Request, path: str) -> str:
    """Where the browser goes next: this origin, or in `reflex run` development the frontend's
    own port on the same host (the form was posted from there to the backend's port)."""
    origin = urlsplit(request.headers.get("origin", ""))
    if origin.hostname and origin.hostname != request.url.hostname:
        raise PermissionDenied("Log in from Chatapp's own login page.")
    if origin.hostname and origin.netloc != request.url.netloc:
        return f"{origin.scheme}://{origin.netloc}{path}"
    return path


@router.post("/auth/session", status_code=303, response_class=RedirectResponse, responses=REDIRECTS)
def open_browser_session(
    request: Request,
    ticket: Annotated[str, Form(max_length=200)],
    session: Session = REQUEST_SESSION,
) -> RedirectResponse:
    """The dashboard's login, second step: trade the one-time ticket the login page got for the
    session, kept in an HttpOnly, SameSite=Strict cookie (Secure when PUBLIC_URL is https) that
    page scripts cannot read; persistent for 7 days with "remember me"."""
    target = _dashboard_url(request, DASHBOARD)
    result = auth.redeem_ticket(session, ticket)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        result.token,
        max_age=get_settings().remember_me_days * 86400 if result.remember else None,
        path="/",
        secure=get_settings().cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post(
    "/auth/session/end", status_code=303, response_class=RedirectResponse, responses=REDIRECTS
)
def end_browser_session(request: Request, session: Session = REQUEST_SESSION) -> RedirectResponse:
    """The dashboard's logout: the session is revoked and its cookie expires."""
    target = _dashboard_url(request, LOGIN_PAGE)
    auth.logout(session, request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(
        auth.SESSION_COOKIE,
        path="/",
        secure=get_settings().cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


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
