"""The invitation page's state on a plain state tree, as a browser drives it: a new person, an
account holder who logs in, someone already logged in, someone logged in as another person, and a
used link. (The browser test walks the new person's way through the real app.)"""

from __future__ import annotations

import reflex as rx
from reflex.istate.data import ReflexURL, URLData

from chatapp.core.db import session_scope
from chatapp.services.accounts import auth, invitations
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.models import Role
from chatapp.state.invite import InviteState
from tests.utils.dashboard_login import sign_in, trade_ticket
from tests.utils.factories import PASSWORD, Tenant, make_tenant
from tests.utils.handlers import run

NEW_PASSWORD = "my own choice 42"


def page_for(link: str, session_token: str = "") -> InviteState:
    """The page opened at `link` in a browser (holding `session_token`, when given)."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(InviteState.get_full_name().split(".")[1:])
    url = URLData.from_url(ReflexURL(link))
    node = state
    while node is not None:
        node.rx_router_url = url
        node = node.parent_state
    if session_token:
        sign_in(state, session_token)
    run(state.open_invitation())
    return state


def new_link(tenant: Tenant, role: str = "agent", email: str = "") -> str:
    with session_scope() as session:
        made = invitations.create_invitation(
            session, tenant.owner, role=role, email=email, base_url="http://testserver"
        )
    return made.url


def role_in(tenant: Tenant, email: str) -> Role:
    with session_scope() as session:
        user = auth.get_user_by_email(session, email)
        return actor_for(session, user_id=user.id, workspace_id=tenant.workspace.id).role


def login_token(email: str) -> str:
    with session_scope() as session:
        return auth.login(session, email=email, password=PASSWORD).token


def test_a_new_person_signs_up_and_the_link_is_then_used(database_url):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
    link = new_link(tenant)
    page = page_for(link)
    assert (page.invite_mode, page.invite_workspace, page.invite_role) == (
        "new",
        "Workspace a",
        "agent",
    )
    form = {"email": "ana@example.com", "name": "Ana", "password": NEW_PASSWORD}
    run(page.sign_up({**form, "confirm": "something else"}))
    assert page.invite_error == "The two passwords differ."
    events = run(page.sign_up({**form, "confirm": NEW_PASSWORD}))
    assert page.invite_error == "" and page.chosen_workspace == str(tenant.workspace.id)
    with session_scope() as session:
        assert auth.user_for_token(session, trade_ticket(events)).email == "ana@example.com"
    assert role_in(tenant, "ana@example.com") == Role.AGENT
    again = page_for(link)
    assert again.invite_mode == "gone" and "already used" in again.invite_error


def test_an_account_holder_logs_in_on_the_page_and_joins(database_url):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
    page = page_for(new_link(b, role="viewer", email="agent-a@example.com"))
    assert page.invite_mode == "existing" and page.invite_email == "agent-a@example.com"
    run(page.choose_mode("new"))  # a link for an email: that account's way only
    assert page.invite_mode == "existing"
    run(page.log_in({"password": "not the password"}))
    assert page.invite_error == "Email or password is incorrect."
    events = run(page.log_in({"password": PASSWORD}))
    assert page.invite_error == "" and trade_ticket(events)
    assert role_in(b, "agent-a@example.com") == Role.VIEWER
    assert role_in(a, "agent-a@example.com") == Role.AGENT


def test_someone_logged_in_joins_or_is_told_the_link_is_for_another(database_url):
    with session_scope() as session:
        make_tenant(session, "a")
        b = make_tenant(session, "b")
    token = login_token("viewer-a@example.com")
    for_someone_else = page_for(new_link(b, email="ana@example.com"), token)
    assert for_someone_else.invite_mode == "other"
    assert for_someone_else.invite_user == "viewer-a@example.com"
    page = page_for(new_link(b, role="admin"), token)
    assert page.invite_mode == "member"
    (redirect,) = run(page.join())
    assert page.chosen_workspace == str(b.workspace.id)
    assert repr(redirect.args) == repr(rx.redirect("/").args)  # to the home page
    assert role_in(b, "viewer-a@example.com") == Role.ADMIN
