"""Who is logged in and which workspace they work in: the state every dashboard page builds on.

The session token lives in a cookie: a 7-day one with "remember me", a browser-session one without.
Only the token is in the browser; the user id and role are backend-only and re-checked against the
database (through the services) on every page load and every action.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.services import auth, workspaces
from chatapp.services.config import get_settings
from chatapp.services.db import session_scope
from chatapp.services.errors import NotAuthenticated, NotFound, ServiceError
from chatapp.services.tenancy import Actor, actor_for

REMEMBER_SECONDS = 7 * 24 * 3600
SECURE_COOKIES = get_settings().cookie_secure
LOGIN_ROUTE = "/login"
SETUP_ROUTE = "/setup"
HOME_ROUTE = "/"


@dataclasses.dataclass
class WorkspaceOption:
    id: str
    name: str
    role: str


class AuthState(rx.State):
    """Login, logout, first-run setup, the current user and workspace."""

    # Reflex keeps cookies in the browser's JS (sent with each event over the websocket), so
    # they cannot be HttpOnly; SameSite=Strict and Secure (https PUBLIC_URL) still apply.
    remembered_token: str = rx.Cookie(
        "",
        name="chatapp_remember",
        max_age=REMEMBER_SECONDS,
        same_site="strict",
        path="/",
        secure=SECURE_COOKIES,
    )
    session_token: str = rx.Cookie(
        "", name="chatapp_session", same_site="strict", path="/", secure=SECURE_COOKIES
    )
    chosen_workspace: str = rx.LocalStorage("", name="chatapp_workspace")

    user_email: str = ""
    user_name: str = ""
    workspace_options: list[WorkspaceOption] = []
    workspace_id: str = ""
    workspace_name: str = ""
    role: str = ""
    form_error: str = ""
    busy: bool = False

    _user_id: int = 0

    # --- helpers used by every page state ---------------------------------------------------

    def _token(self) -> str:
        return self.session_token or self.remembered_token

    def actor(self, session) -> Actor:
        """The acting member, re-read from the database: a removed member loses access at once."""
        user = auth.user_for_token(session, self._token())
        if not self.workspace_id:
            raise NotFound("Choose a workspace first.")
        actor = actor_for(session, user_id=user.id, workspace_id=int(self.workspace_id))
        return dataclasses.replace(actor, ip=self.router.session.client_ip or "")

    @rx.var
    def is_manager(self) -> bool:
        return self.role in ("owner", "admin")

    @rx.var
    def user_initial(self) -> str:
        return (self.user_name or self.user_email or "?")[:1].upper()

    # --- page guards ------------------------------------------------------------------------

    @rx.event
    def require_login(self):
        """on_load of every dashboard page: load the user and workspace or go to the login page."""
        try:
            with session_scope() as session:
                user = auth.user_for_token(session, self._token())
                options = workspaces.list_user_workspaces(session, user_id=user.id)
                self._load_user(user, options)
        except NotAuthenticated:
            self._forget_user()
            return rx.redirect(LOGIN_ROUTE)
        if not options:
            self.form_error = "You are not a member of any workspace. Ask an owner to add you."
            self._forget_user()
            return rx.redirect(LOGIN_ROUTE)

    @rx.event
    def guard_login_page(self):
        """on_load of /login: first run goes to setup; a logged-in user goes home."""
        with session_scope() as session:
            if not auth.has_any_user(session):
                return rx.redirect(SETUP_ROUTE)
            try:
                auth.user_for_token(session, self._token())
            except NotAuthenticated:
                return None
        return rx.redirect(HOME_ROUTE)

    @rx.event
    def guard_setup_page(self):
        """on_load of /setup: only while nobody has an account."""
        with session_scope() as session:
            if auth.has_any_user(session):
                return rx.redirect(LOGIN_ROUTE)
        self.form_error = ""

    # --- actions -----------------------------------------------------------------------------

    @rx.event
    def login(self, form: dict):
        self.form_error = ""
        remember = bool(form.get("remember"))
        try:
            with session_scope() as session:
                result = auth.login(
                    session,
                    email=str(form.get("email", "")),
                    password=str(form.get("password", "")),
                    remember=remember,
                    ip=self.router.session.client_ip or "",
                    user_agent=self.router.headers.user_agent or "",
                )
        except ServiceError as error:
            self.form_error = error.message
            return None
        self._store_token(result.token, remember)
        return rx.redirect(HOME_ROUTE)

    @rx.event
    def setup(self, form: dict):
        """First run: create the first owner and workspace, then log straight in."""
        self.form_error = ""
        if form.get("password") != form.get("confirm"):
            self.form_error = "The two passwords differ."
            return None
        try:
            with session_scope() as session:
                user, _workspace = workspaces.setup_first_admin(
                    session,
                    email=str(form.get("email", "")),
                    password=str(form.get("password", "")),
                    name=str(form.get("name", "")),
                    workspace_name=str(form.get("workspace", "")),
                )
                result = auth.login(
                    session, email=user.email, password=str(form.get("password", ""))
                )
        except ServiceError as error:
            self.form_error = error.message
            return None
        self._store_token(result.token, remember=False)
        return rx.redirect(HOME_ROUTE)

    @rx.event
    def logout(self):
        with session_scope() as session:
            auth.logout(session, self._token())
        self._forget_user()
        self.session_token = ""
        self.remembered_token = ""
        return rx.redirect(LOGIN_ROUTE)

    @rx.event
    def switch_workspace(self, workspace_id: str):
        if any(option.id == workspace_id for option in self.workspace_options):
            self.chosen_workspace = workspace_id
            return rx.redirect(HOME_ROUTE)
        return rx.toast.error("Workspace not found.")

    @rx.event
    def create_workspace(self, form: dict):
        try:
            with session_scope() as session:
                user = auth.user_for_token(session, self._token())
                workspace = workspaces.create_workspace(
                    session, user_id=user.id, name=str(form.get("name", ""))
                )
        except ServiceError as error:
            return rx.toast.error(error.message)
        self.chosen_workspace = str(workspace.id)
        return rx.redirect(HOME_ROUTE)

    # --- internals ---------------------------------------------------------------------------

    def _store_token(self, token: str, remember: bool) -> None:
        if remember:
            self.remembered_token, self.session_token = token, ""
        else:
            self.session_token, self.remembered_token = token, ""

    def _load_user(self, user, options) -> None:
        self._user_id = user.id
        self.user_email = user.email
        self.user_name = user.name
        self.workspace_options = [WorkspaceOption(str(o.id), o.name, o.role) for o in options]
        current = next((o for o in options if str(o.id) == self.chosen_workspace), None)
        current = current or (options[0] if options else None)
        if current is not None:
            self.workspace_id = str(current.id)
            self.workspace_name = current.name
            self.role = current.role
            self.chosen_workspace = str(current.id)

    def _forget_user(self) -> None:
        self._user_id = 0
        self.user_email = self.user_name = ""
        self.workspace_options = []
        self.workspace_id = self.workspace_name = self.role = ""
