"""What it takes to call any route of the API: valid bodies and the ids a world fills in.

Shared by the tenant matrix (a world's ids in another world's paths) and the SQLite concurrency
test (each world calling its own routes).
"""

from __future__ import annotations

import re

from tests.utils.tenant_world import World

PARAM = re.compile(r"{(\w+)}")

# Valid bodies, so validation (422) cannot answer before the route's real work does.
BODIES = {
    ("PATCH", "members/{user_id}"): {"role": "agent"},
    ("POST", "members"): {"email": "intruder@example.com", "role": "viewer", "password": "x" * 12},
    ("PATCH", "bots/{bot_id}"): {"name": "pwned"},
    ("POST", "bots"): {"name": "pwned"},
    ("POST", "sources/text"): {"title": "pwned", "text": "pwned text"},
    ("POST", "sources/qa"): {"question": "pwned?", "answer": "pwned"},
    ("POST", "sources/url"): {"url": "https://example.com/"},
    ("POST", "sources/website"): {"url": "https://example.com/"},
    ("PATCH", "sources/{source_id}"): {"title": "pwned", "text": "pwned text"},
    ("POST", "improve"): {"answer": "pwned"},
    ("POST", "search"): {"query": "opening hours"},
    ("POST", "chat"): {"message": "opening hours?", "stream": False},
    ("POST", "messages"): {"content": "pwned"},
    ("POST", "typing"): {"typing": True},
    ("POST", "actions"): {"kind": "link", "name": "pwned"},
    ("PATCH", "actions/{action_id}"): {"name": "pwned"},
    ("POST", "test"): {"input": {}},
    ("POST", "tokens"): {"name": "pwned"},
    ("POST", "invitations"): {"role": "viewer", "email": "intruder@example.com"},
    ("PUT", "llm"): {"base_url": "https://api.example.com/v1", "api_key": "sk-x", "model": "m"},
}


def body_for(method: str, path: str) -> dict | None:
    for (m, suffix), body in BODIES.items():
        if m == method and path.endswith(suffix):
            return body
    return None


def ids_of(world: World, path: str) -> dict[str, str]:
    """The path parameters `world` fills in (public routes address a bot by its public id)."""
    public = path.startswith("/api/public/")
    return {
        "workspace_id": str(world.workspace_id),
        "bot_id": world.public_id if public else str(world.bot_id),
        "source_id": str(world.source_id),
        "conversation_id": str(world.conversation_id),
        "action_id": str(world.lead_action_id),
        "token_id": str(world.api_token_id),
        "invitation_id": str(world.invitation_id),
        "user_id": str(world.user_ids["viewer"]),
        "message_id": str(world.answer_message_id),
        "contact_id": str(world.contact_id),
        "name": "missing.png",  # an avatar file name
        "model": world.public_id,  # the OpenAI-compatible API's name for a bot
    }


def fill(path: str, workspace: World, others: World) -> str:
    """`path` with the workspace id of `workspace` and every other id of `others`."""
    ids_w, ids_o = ids_of(workspace, path), ids_of(others, path)
    return PARAM.sub(
        lambda m: ids_w[m.group(1)] if m.group(1) == "workspace_id" else ids_o[m.group(1)], path
    )
