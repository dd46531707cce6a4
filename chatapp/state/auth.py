"""Who is logged in and which workspace they work in: the state every dashboard page builds on.

The session token lives in a cookie: a 7-day one with "remember me", a browser-session one without.
Only the token is in the browser; the user id and role are backend-only and re-checked against the
database (through the services) on every page load and every action.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.core.config import get_settings
from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import auth, workspaces
from chatapp.state import calls

REMEMBER_SECONDS = 7 * 24 * 3600
# Read once at import on purpose: Reflex compiles a cookie's attributes into the frontend when the
# app is built, so a later change of PUBLIC_URL cannot reach the browser before the next build.
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

    def _who(self) -> calls.Who:
        """Who acts, for `calls`: read here, on the loop, never from the worker thread."""
        ip = self.router.session.client_ip or ""
        return calls.Who(token=self._token(), workspace_id=self.workspace_id, ip=ip)

    @rx.var
    def is_manager(self) -> bool:
        return self.role in ("owner", "admin")

    @rx.var
    def user_initial(self) -> str:
        return (self.user_name or self.user_email or "?")[:1].upper()

    # --- page guards ------------------------------------------------------------------------

    @rx.event
    async def require_login(self):
        """on_load of every dashboard page: load the user and workspace or go to the login page."""
        token = self._token()

        def load(session):
            user = auth.user_for_token(session, token)
            return user, workspaces.list_user_workspaces(session, user_id=user.id)

        done = await calls.in_session(self, load, quiet=True)
        if not done.ok and not isinstance(done.error, NotAuthenticated):
            return rx.toast.error(done.error.message)
        user, options = done.value if done.ok else (None, [])
        if not options:
            if done.ok:
                self.form_error = "You are not a member of any workspace. Ask an owner to add you."
            self._forget_user()
            return rx.redirect(LOGIN_ROUTE)
        self._load_user(user, options)
        return None

    @rx.event
    async def guard_login_page(self):
        """on_load of /login: first run goes to setup; a logged-in user goes home."""
        token = self._token()

        def where(session) -> str | None:
            if not auth.has_any_user(session):
                return SETUP_ROUTE
            try:
                auth.user_for_token(session, token)
            except NotAuthenticated:
                return None
            return HOME_ROUTE

        done = await calls.in_session(self, where)
        if not done.ok:
            return done.toast
        return rx.redirect(done.value) if done.value else None

    @rx.event
    async def guard_setup_page(self):
        """on_load of /setup: only while nobody has an account."""
        done = await calls.in_session(self, auth.has_any_user)
        if not done.ok:
            return done.toast
        if done.value:
            return rx.redirect(LOGIN_ROUTE)
        self.form_error = ""
        return None

    # --- actions -----------------------------------------------------------------------------

    @rx.event
    async def login(self, form: dict):
        """Hashing the password takes ~0.5 s: `calls` keeps it off the loop."""
        self.form_error = ""
        remember = bool(form.get("remember"))
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        ip, agent = self.router.session.client_ip or "", self.router.headers.user_agent or ""
        done = await calls.in_session(
            self,
            lambda s: auth.login(
                s, email=email, password=password, remember=remember, ip=ip, user_agent=agent
            ),
            quiet=True,
        )
        if not done.ok:
            self.form_error = done.error.message
            return None
        self._store_token(done.value.token, remember)
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def setup(self, form: dict):
        """First run: create the first owner and workspace, then log straight in."""
        self.form_error = ""
        if form.get("password") != form.get("confirm"):
            self.form_error = "The two passwords differ."
            return None
        password = str(form.get("password", ""))
        fields = {k: str(form.get(k, "")) for k in ("email", "name", "workspace")}

        def first_admin(session):
            user, _workspace = workspaces.setup_first_admin(
                session,
                email=fields["email"],
                password=password,
                name=fields["name"],
                workspace_name=fields["workspace"],
            )
            return auth.login(session, email=user.email, password=password)

        done = await calls.in_session(self, first_admin, quiet=True)
        if not done.ok:
            self.form_error = done.error.message
            return None
        self._store_token(done.value.token, remember=False)
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def logout(self):
        token = self._token()
        done = await calls.in_session(self, lambda s: auth.logout(s, token))
        if not done.ok:
            return done.toast
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
    async def create_workspace(self, form: dict):
        token, name = self._token(), str(form.get("name", ""))

        def create(session):
            user = auth.user_for_token(session, token)
            return workspaces.create_workspace(session, user_id=user.id, name=name)

        done = await calls.in_session(self, create)
        if not done.ok:
            return done.toast
        self.chosen_workspace = str(done.value.id)
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
