"""Who is logged in and which workspace they work in: the state every dashboard page builds on.

The session token lives in an HttpOnly cookie that page scripts cannot read (a 7-day one with
"remember me", a browser-session one without). Only the server sets it: the login event gets a
one-time ticket and the page posts it to the API (`components/session_forms.py`), which answers
with the cookie. States read the token from the cookie header of the websocket's handshake
(`self.router.headers.cookie`; Reflex never sends it to the frontend). The user id and role are
backend-only and re-checked against the database on every page load and every action.

Each login and logout ends in a full-page navigation that drops the tab's Reflex client token, so
the next user starts from a fresh state tree; logout also resets the whole tree at once (which
ends the background followers) and `require_login` resets it when the cookie names someone else.
"""

from __future__ import annotations

import dataclasses
import json

import reflex as rx
from reflex.config import get_config

from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import auth, workspaces
from chatapp.state import calls

LOGIN_ROUTE = "/login"
SETUP_ROUTE = "/setup"
HOME_ROUTE = "/"
# The hidden forms of components/session_forms.py that login and logout submit.
OPEN_FORM_ID = "session-open-form"
END_FORM_ID = "session-end-form"


@dataclasses.dataclass
class WorkspaceOption:
    id: str
    name: str
    role: str


class AuthState(rx.State):
    """Login, logout, first-run setup, the current user and workspace."""

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
        """The session token from the handshake's cookie header (HttpOnly: never in page JS)."""
        return auth.cookie_token(self.router.headers.cookie)

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
        if self._user_id and (user is None or user.id != self._user_id):
            self._reset_tree()  # someone else (or nobody) now: drop the previous user's state
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
                s,
                email=email,
                password=password,
                remember=remember,
                ip=ip,
                user_agent=agent,
                ticket=True,
            ),
            quiet=True,
        )
        if not done.ok:
            self.form_error = done.error.message
            return None
        return post_login_ticket(done.value.token)

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
            return auth.login(session, email=user.email, password=password, ticket=True)

        done = await calls.in_session(self, first_admin, quiet=True)
        if not done.ok:
            self.form_error = done.error.message
            return None
        return post_login_ticket(done.value.token)

    @rx.event
    async def logout(self):
        token = self._token()
        done = await calls.in_session(self, lambda s: auth.logout(s, token))
        if not done.ok:
            return done.toast
        self._reset_tree()
        return _post_form(END_FORM_ID, "/api/v1/auth/session/end")

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

    def _reset_tree(self) -> None:
        """Every state of this tab back to its defaults: no page keeps the previous user's data,
        and each background follower ends at its next wake-up (its workspace or generation
        changed)."""
        root = self
        while root.parent_state is not None:
            root = root.parent_state
        root.reset()

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


# Where the backend is as the browser sees it: Reflex's own rule (getBackendURL in state.js) for
# the configured api_url, whose localhost names stand for the page's host.
BACKEND_URL_JS = """((path) => {
  const url = new URL(path, %s);
  if (["localhost", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"].includes(url.hostname)) {
    url.hostname = window.location.hostname;
    if (window.location.protocol === "https:") { url.protocol = "https:"; url.port = ""; }
  }
  return url.href;
})"""


def _post_form(form_id: str, path: str, **fields: str) -> rx.event.EventSpec:
    """Submit a hidden form of components/session_forms.py to the API (a full-page navigation).

    The tab's Reflex client token goes first, so the page after the redirect starts a new state
    tree: nothing of this tab's state is restored for whoever comes next."""
    backend = BACKEND_URL_JS % json.dumps(get_config().api_url)
    lines = [
        'sessionStorage.removeItem("token");',
        f"const form = document.getElementById({json.dumps(form_id)});",
        *(f"form.elements[{json.dumps(k)}].value = {json.dumps(v)};" for k, v in fields.items()),
        f"form.action = {backend}({json.dumps(path)});",
        "form.submit();",
    ]
    return rx.call_script("\n".join(lines))


def post_login_ticket(ticket: str) -> rx.event.EventSpec:
    """Post the one-time ticket to the API, which sets the HttpOnly cookie and redirects."""
    return _post_form(OPEN_FORM_ID, "/api/v1/auth/session", ticket=ticket)
