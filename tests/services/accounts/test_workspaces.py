import pytest

from chatapp.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.models import Role
from tests.utils.factories import PASSWORD, make_tenant, make_user


def test_owner_adds_members_with_roles_and_removes_them(session):
    tenant = make_tenant(session, "a")
    roles = {m.email: m.role for m in workspaces.list_members(session, tenant.owner)}
    assert roles == {
        "owner-a@example.com": "owner",
        "admin-a@example.com": "admin",
        "agent-a@example.com": "agent",
        "viewer-a@example.com": "viewer",
    }
    workspaces.remove_member(session, tenant.owner, user_id=tenant.viewer.user_id)
    emails = {m.email for m in workspaces.list_members(session, tenant.owner)}
    assert "viewer-a@example.com" not in emails
    with pytest.raises(NotFound):
        actor_for(session, user_id=tenant.viewer.user_id, workspace_id=tenant.workspace.id)


def test_new_person_needs_an_initial_password(session):
    tenant = make_tenant(session, "a")
    with pytest.raises(ValidationFailed, match="initial password"):
        workspaces.add_member(session, tenant.owner, email="new@example.com", role="agent")


def test_existing_user_joins_a_second_workspace_and_can_switch(session):
    a = make_tenant(session, "a")
    b = make_tenant(session, "b")
    workspaces.add_member(session, b.owner, email="agent-a@example.com", role="viewer")
    listed = workspaces.list_user_workspaces(session, user_id=a.agent.user_id)
    assert {(w.id, w.role) for w in listed} == {
        (a.workspace.id, "agent"),
        (b.workspace.id, "viewer"),
    }
    in_b = actor_for(session, user_id=a.agent.user_id, workspace_id=b.workspace.id)
    assert in_b.role == Role.VIEWER


def test_adding_someone_twice_is_a_conflict(session):
    tenant = make_tenant(session, "a")
    with pytest.raises(Conflict, match="already a member"):
        workspaces.add_member(session, tenant.owner, email="agent-a@example.com", role="viewer")


def test_unknown_role_is_refused(session):
    tenant = make_tenant(session, "a")
    with pytest.raises(ValidationFailed, match="Role must be one of"):
        workspaces.add_member(
            session, tenant.owner, email="x@example.com", role="superuser", password=PASSWORD
        )


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_cannot_manage_members(session, role):
    tenant = make_tenant(session, "a")
    actor = tenant.actor(role)
    with pytest.raises(PermissionDenied, match="manage members"):
        workspaces.add_member(
            session, actor, email="x@example.com", role="viewer", password=PASSWORD
        )
    with pytest.raises(PermissionDenied):
        workspaces.remove_member(session, actor, user_id=tenant.viewer.user_id)
    with pytest.raises(PermissionDenied):
        workspaces.change_member_role(session, actor, user_id=tenant.viewer.user_id, role="agent")


def test_admin_manages_members_but_not_owners(session):
    tenant = make_tenant(session, "a")
    workspaces.change_member_role(
        session, tenant.admin, user_id=tenant.viewer.user_id, role="agent"
    )
    with pytest.raises(PermissionDenied, match="owner"):
        workspaces.add_member(
            session, tenant.admin, email="o@example.com", role="owner", password=PASSWORD
        )
    with pytest.raises(PermissionDenied, match="owner"):
        workspaces.remove_member(session, tenant.admin, user_id=tenant.owner.user_id)
    with pytest.raises(PermissionDenied, match="owner"):
        workspaces.change_member_role(
            session, tenant.admin, user_id=tenant.owner.user_id, role="viewer"
        )


def test_workspace_keeps_at_least_one_owner(session):
    tenant = make_tenant(session, "a")
    with pytest.raises(Conflict, match="at least one owner"):
        workspaces.remove_member(session, tenant.owner, user_id=tenant.owner.user_id)
    with pytest.raises(Conflict, match="at least one owner"):
        workspaces.change_member_role(
            session, tenant.owner, user_id=tenant.owner.user_id, role="admin"
        )
    workspaces.change_member_role(session, tenant.owner, user_id=tenant.admin.user_id, role="owner")
    workspaces.remove_member(session, tenant.owner, user_id=tenant.owner.user_id)  # now allowed


def test_workspace_names_are_validated_and_slugs_unique(session):
    user = make_user(session)
    with pytest.raises(ValidationFailed):
        workspaces.create_workspace(session, user_id=user.id, name="   ")
    first = workspaces.create_workspace(session, user_id=user.id, name="Acme Inc.")
    second = workspaces.create_workspace(session, user_id=user.id, name="Acme Inc.")
    assert first.slug == "acme-inc"
    assert second.slug != first.slug and second.slug.startswith("acme-inc-")


def test_only_managers_rename_the_workspace(session):
    tenant = make_tenant(session, "a")
    assert workspaces.rename_workspace(session, tenant.admin, name="Renamed").name == "Renamed"
    with pytest.raises(PermissionDenied):
        workspaces.rename_workspace(session, tenant.agent, name="Nope")
