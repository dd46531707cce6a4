"""Invitation links on SQLite and PostgreSQL: made by managers within their role, used once by a
new or existing person, refused clearly when used, expired or withdrawn, and kept per workspace."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from chatapp.core import security
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    ValidationFailed,
)
from chatapp.services.accounts import audit, invitations, workspaces
from chatapp.services.accounts.invitation_accept import (
    Credentials,
    InvitationGone,
    accept_as_user,
    accept_new_user,
    accept_with_login,
    preview,
)
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.models import Invitation, Membership, Role, User, utcnow
from tests.utils.factories import PASSWORD, make_tenant

NEW_PASSWORD = "my own choice 42"


def link_token(new: invitations.NewInvitation) -> str:
    return new.url.rsplit("/", 1)[1]


def invite(session, actor, role="agent", email="") -> tuple[invitations.NewInvitation, str]:
    new = invitations.create_invitation(
        session, actor, role=role, email=email, base_url="https://chat.example/"
    )
    return new, link_token(new)


def users(session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def newcomer(email="new@example.com", password=NEW_PASSWORD, **more) -> Credentials:
    return Credentials(email=email, password=password, **more)


def test_a_new_person_sets_a_password_and_joins_once(session):
    tenant = make_tenant(session, "a")
    new, token = invite(session, tenant.owner, role="agent")
    assert new.url == f"https://chat.example/invite/{token}" and token.startswith("inv_")
    row = session.get(Invitation, new.view.id)
    assert row.token_hash == security.hash_token(token)  # only the hash is stored
    assert token not in str(row.model_dump())
    assert row.expires_at - row.created_at == timedelta(days=7)
    shown = preview(session, token)
    assert (shown.workspace_name, shown.role, shown.invited_by) == (
        "Workspace a",
        "agent",
        "owner-a@example.com",
    )
    joined = accept_new_user(session, token, newcomer(name="Ana"), ticket=True)
    actor = actor_for(session, user_id=joined.user_id, workspace_id=tenant.workspace.id)
    assert actor.role == Role.AGENT and joined.login.user.name == "Ana"
    assert joined.login.expires_at - utcnow() < timedelta(minutes=2)  # a login ticket
    before = users(session)
    with pytest.raises(InvitationGone, match="already used") as used:
        accept_new_user(session, token, newcomer("second@example.com"))
    assert used.value.status == 410 and users(session) == before
    assert invitations.list_invitations(session, tenant.owner) == []


def test_an_existing_user_logs_in_or_is_logged_in_and_joins(session):
    a, b = make_tenant(session, "a"), make_tenant(session, "b")
    _, for_agent = invite(session, b.owner, role="viewer", email="Agent-A@example.com")
    assert preview(session, for_agent).account_exists
    with pytest.raises(NotAuthenticated):
        accept_with_login(session, for_agent, newcomer("", password="wrong password"))
    assert len(invitations.list_invitations(session, b.owner)) == 1  # a failed login uses nothing
    joined = accept_with_login(session, for_agent, newcomer("", password=PASSWORD))
    assert joined.user_id == a.agent.user_id and joined.login.token
    in_b = actor_for(session, user_id=a.agent.user_id, workspace_id=b.workspace.id)
    assert in_b.role == Role.VIEWER
    _, anyone = invite(session, b.owner, role="agent")
    joined = accept_as_user(session, anyone, user_id=a.viewer.user_id)
    assert joined.login is None and joined.workspace_id == b.workspace.id
    _, again = invite(session, b.owner, role="agent")
    with pytest.raises(Conflict, match="already a member of Workspace b"):
        accept_as_user(session, again, user_id=a.viewer.user_id)
    assert len(invitations.list_invitations(session, b.owner)) == 1  # still pending


def test_a_link_for_an_email_is_for_that_person_only(session):
    tenant = make_tenant(session, "a")
    _, token = invite(session, tenant.owner, email="ana@example.com")
    with pytest.raises(PermissionDenied, match=r"for ana@example\.com, not agent-a@example\.com"):
        accept_as_user(session, token, user_id=tenant.agent.user_id)
    joined = accept_new_user(session, token, newcomer("someone-else@example.com"))
    assert joined.email == "ana@example.com"  # the invitation's email, whatever was typed


def test_expired_used_and_withdrawn_links_say_so_and_create_nothing(session):
    tenant = make_tenant(session, "a")
    old, expired = invite(session, tenant.owner)
    row = session.get(Invitation, old.view.id)
    row.expires_at = utcnow() - timedelta(minutes=1)  # as if a week had passed
    session.add(row)
    session.flush()
    withdrawn_new, withdrawn = invite(session, tenant.owner)
    invitations.revoke_invitation(session, tenant.owner, withdrawn_new.view.id)
    _, used = invite(session, tenant.owner)
    accept_new_user(session, used, newcomer("first@example.com"))
    before = users(session), session.exec(select(func.count()).select_from(Membership)).one()
    cases = {
        expired: (InvitationGone, "expired on"),
        withdrawn: (InvitationGone, "withdrawn"),
        used: (InvitationGone, "already used"),
        "inv_made-up": (NotFound, "not valid"),
        "": (NotFound, "not valid"),
    }
    for token, (error, words) in cases.items():
        with pytest.raises(error, match=words):
            accept_new_user(session, token, newcomer("late@example.com"))
        with pytest.raises(error, match=words):
            preview(session, token)
    after = users(session), session.exec(select(func.count()).select_from(Membership)).one()
    assert after == before


def test_a_weak_password_is_refused_and_the_link_still_works(session):
    tenant = make_tenant(session, "a")
    _, token = invite(session, tenant.owner)
    with pytest.raises(ValidationFailed, match="at least 8 characters"):
        accept_new_user(session, token, newcomer(password="short"))
    with pytest.raises(ValidationFailed, match="valid email"):
        accept_new_user(session, token, newcomer(email="not an email"))
    with pytest.raises(Conflict, match="already exists: log in"):
        accept_new_user(session, token, newcomer(email="viewer-a@example.com"))
    assert accept_new_user(session, token, newcomer()).role == "agent"


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_cannot_invite_list_or_withdraw(session, role):
    tenant = make_tenant(session, "a")
    new, _ = invite(session, tenant.owner)
    actor = tenant.actor(role)
    with pytest.raises(PermissionDenied, match="manage members"):
        invite(session, actor, role="viewer")
    with pytest.raises(PermissionDenied):
        invitations.list_invitations(session, actor)
    with pytest.raises(PermissionDenied):
        invitations.revoke_invitation(session, actor, new.view.id)


def test_only_an_owner_invites_an_owner(session):
    tenant = make_tenant(session, "a")
    with pytest.raises(PermissionDenied, match="Only an owner can invite someone as owner"):
        invite(session, tenant.admin, role="owner")
    for_owner, token = invite(session, tenant.owner, role="owner")
    with pytest.raises(PermissionDenied, match="Only an owner can withdraw"):
        invitations.revoke_invitation(session, tenant.admin, for_owner.view.id)
    assert invite(session, tenant.admin, role="admin")[0].view.role == "admin"
    with pytest.raises(ValidationFailed, match="Role must be one of"):
        invite(session, tenant.owner, role="superuser")
    with pytest.raises(Conflict, match="already a member"):
        invite(session, tenant.owner, email="viewer-a@example.com")
    joined = accept_new_user(session, token, newcomer("co-owner@example.com"))
    assert joined.role == "owner"


def test_workspaces_never_see_or_withdraw_each_others_invitations(session):
    a, b = make_tenant(session, "a"), make_tenant(session, "b")
    in_a, token = invite(session, a.owner, email="ana@example.com")
    invite(session, b.owner, email="bob@example.com")
    assert [v.email for v in invitations.list_invitations(session, a.owner)] == ["ana@example.com"]
    assert [v.email for v in invitations.list_invitations(session, b.owner)] == ["bob@example.com"]
    with pytest.raises(NotFound, match="Invitation not found"):
        invitations.revoke_invitation(session, b.owner, in_a.view.id)
    joined = accept_new_user(session, token, newcomer("ana@example.com"))
    assert joined.workspace_id == a.workspace.id
    with pytest.raises(NotFound):
        actor_for(session, user_id=joined.user_id, workspace_id=b.workspace.id)


def test_created_accepted_and_withdrawn_are_in_the_audit_log(session):
    tenant = make_tenant(session, "a")
    first, token = invite(session, tenant.owner, role="viewer", email="ana@example.com")
    second, _ = invite(session, tenant.owner, role="agent")
    invitations.revoke_invitation(session, tenant.owner, second.view.id)
    invitations.revoke_invitation(session, tenant.owner, second.view.id)  # twice: one entry
    accept_new_user(session, token, newcomer("ana@example.com", ip="203.0.113.9"))
    entries = audit.list_entries(session, tenant.owner).entries
    logged = [
        (e.action, e.target_id, e.actor, e.changes)
        for e in entries
        if e.action.startswith("invitation.")
    ]
    assert logged == [
        (
            "invitation.accept",
            str(first.view.id),
            "ana@example.com",
            {"email": [None, "ana@example.com"], "role": [None, "viewer"]},
        ),
        (
            "invitation.revoke",
            str(second.view.id),
            "owner-a@example.com",
            {"role": ["agent", None], "email": ["(anyone with the link)", None]},
        ),
        (
            "invitation.create",
            str(second.view.id),
            "owner-a@example.com",
            {"role": [None, "agent"], "email": [None, "(anyone with the link)"]},
        ),
        (
            "invitation.create",
            str(first.view.id),
            "owner-a@example.com",
            {"role": [None, "viewer"], "email": [None, "ana@example.com"]},
        ),
    ]
    assert entries[0].ip == "203.0.113.9"


def test_refused_links_are_throttled_per_address_like_logins(session, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")  # x4 per address, as for logins
    reset_settings()
    tenant = make_tenant(session, "a")
    _, token = invite(session, tenant.owner)
    for _ in range(4):
        with pytest.raises(NotFound):
            preview(session, "inv_guess", ip="198.51.100.7")
    with pytest.raises(TooManyRequests, match="Too many invalid invitation links") as locked:
        preview(session, token, ip="198.51.100.7")
    assert locked.value.retry_after_seconds == 15 * 60
    assert preview(session, token, ip="198.51.100.8").role == "agent"  # another address


def test_two_people_opening_one_link_at_once_make_one_member(database_url):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        _, token = invite(session, tenant.owner, role="agent")
        members_before = len(workspaces.list_members(session, tenant.owner))
    people = 4
    barrier = threading.Barrier(people)
    results: list[object] = [None] * people

    def accept(n: int) -> None:
        barrier.wait()
        try:
            with session_scope() as session:
                results[n] = accept_new_user(session, token, newcomer(f"p{n}@example.com"))
        except Exception as exc:  # collected and checked below
            results[n] = exc

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, InvitationGone) for r in losers), results
    with session_scope() as session:
        members = workspaces.list_members(session, tenant.owner)
        emails = set(session.exec(select(User.email)).all())
    assert len(members) == members_before + 1
    assert [f"p{n}@example.com" in emails for n in range(people)].count(True) == 1
