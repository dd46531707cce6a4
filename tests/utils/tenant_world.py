"""Two workspaces full of data with marker strings, for the fuzz test and the tenant matrix.

`make_world(label)` builds, through the real services, one workspace with: a bot (and a widget
key), a text source, a collect-lead and a handoff action, a visitor conversation that asked for a
person (pending in the inbox) with a bot answer, a lead contact, an API token and a login token for
every role. Every text it stores contains `marker(label)`, so a response body that holds another
workspace's data can be found by searching for that marker.

Run as `python -m tests.utils.tenant_world DATA_DIR` to prepare a data directory in a child
process (prints the worlds as JSON on its last line).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field

from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.services.accounts import api_tokens, auth, invitations
from chatapp.services.bots import bots
from chatapp.services.contacts import contacts, leads
from chatapp.services.knowledge import sources
from chatapp.services.models import Message, Role
from chatapp.workers import ingest as worker
from tests.utils.factories import PASSWORD, make_tenant
from tests.utils.handoff import add_action
from tests.utils.knowledge import BotKey, collect, new_session_id


def marker(label: str) -> str:
    return f"zq{label}marker"


@dataclass
class World:
    """One workspace's ids, secrets and marker; plain values so it crosses processes as JSON."""

    label: str
    marker: str
    workspace_id: int
    bot_id: int
    public_id: str
    widget_key: str
    source_id: int
    lead_action_id: int
    handoff_action_id: int
    conversation_id: int
    session_id: str
    user_message_id: int
    answer_message_id: int
    contact_id: int
    api_token: str
    api_token_id: int
    invitation_id: int  # a pending invitation (its email holds the marker)
    user_ids: dict[str, int] = field(default_factory=dict)  # role -> user id
    emails: dict[str, str] = field(default_factory=dict)  # role -> email
    login_tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token

    def bearer(self, role: str = "owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login_tokens[role]}"}


def make_world(label: str) -> World:
    mark = marker(label)
    with session_scope() as session:
        tenant = make_tenant(session, label)
        bots.rename_bot(session, tenant.owner, tenant.bot.id, f"Bot {mark}")
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        source = sources.add_text(
            session,
            tenant.owner,
            tenant.bot.id,
            title=f"Hours {mark}",
            text=f"Opening hours {mark}\n\nThe {mark} shop opens at 9am every weekday.",
        )
        token, plain_token = api_tokens.create_token(session, tenant.owner, name=f"sync {mark}")
        invitation = invitations.create_invitation(
            session, tenant.owner, role="viewer", email=f"invitee-{mark}@example.com"
        )
        contacts.create_contact(
            session,
            tenant.owner,
            contacts.ContactInput(name=f"Hand {mark}", email=f"hand-{label}@example.com"),
            bot_id=tenant.bot.id,
        )
        ids = {
            "workspace": tenant.workspace.id,
            "bot": tenant.bot.id,
            "public": tenant.bot.public_id,
            "source": source.id,
            "token": token.id,
            "invitation": invitation.view.id,
        }
        roles = {r.value: tenant.actor(r).user_id for r in Role}
        emails = {r: f"{r}-{label}@example.com" for r in roles}
        logins = {
            r: auth.login(session, email=email, password=PASSWORD, ip="setup").token
            for r, email in emails.items()
        }
    worker.run_until_idle()
    lead_action = add_action(ids["bot"], ids["workspace"], "collect_lead", title=f"Form {mark}")
    handoff_action = add_action(ids["bot"], ids["workspace"], "handoff")
    session_id = new_session_id()
    visitor_bot = BotKey(ids["public"], key)
    collect(visitor_bot, f"When do you open? {mark}", session_id)
    events = collect(visitor_bot, f"talk to a human please {mark}", session_id)
    conversation_id = next(e.data["conversation_id"] for e in events if e.type == "done")
    with session_scope() as session:
        lead = leads.submit(
            session,
            bot_id=ids["public"],
            api_key=key,
            origin=None,
            referer=None,
            session_id=session_id,
            fields={"name": f"Lead {mark}", "email": f"lead-{label}@example.com", "message": mark},
        )
        messages = session.exec(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        ).all()
        user_message = next(m.id for m in messages if m.role == "user")
        answer = next(m.id for m in messages if m.role == "assistant")
    return World(
        label=label,
        marker=mark,
        workspace_id=ids["workspace"],
        bot_id=ids["bot"],
        public_id=ids["public"],
        widget_key=key,
        source_id=ids["source"],
        lead_action_id=lead_action,
        handoff_action_id=handoff_action,
        conversation_id=conversation_id,
        session_id=session_id,
        user_message_id=user_message,
        answer_message_id=answer,
        contact_id=lead.contact_id,
        api_token=plain_token,
        api_token_id=ids["token"],
        invitation_id=ids["invitation"],
        user_ids=roles,
        emails=emails,
        login_tokens=logins,
    )


def _main(data_dir: str) -> None:
    import os

    from chatapp.core import migrations
    from chatapp.services.knowledge.index.vector_index import close_indexes

    os.environ["DATA_DIR"] = data_dir
    migrations.upgrade()
    worlds = [asdict(make_world("a")), asdict(make_world("b"))]
    close_indexes()
    print(json.dumps(worlds))


if __name__ == "__main__":
    _main(sys.argv[1])
