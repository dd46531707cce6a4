"""A bot set up for the widget's actions, live handoff and audiences (docs/LIVE_AND_ACTIONS.md).

`prepare_live(data_dir)` (in a child process, like `widget_stack.prepare`) migrates a fresh data
directory and makes a shop bot with: a link action (keyword "book"), a lead form action (phrase
"call me back"), the handoff action (the widget's "Talk to a person" button), two audiences, and
a workspace API token an agent's script uses on the inbox routes. Printed as JSON.

Run as `python -m tests.utils.live_stack DATA_DIR`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.utils.widget_stack import prepare

LINK = {"label": "Book a call", "url": "https://example.com/book?from=chat"}
LEAD_FIELDS = [
    {"name": "name", "label": "Your name", "required": True},
    {"name": "email", "label": "Email", "required": True},
    {"name": "phone", "label": "Phone", "required": False},
    {"name": "message", "label": "Message", "required": False},
]
LEAD_SUCCESS = "Thanks, we will call you back soon."
CONNECTING = "Connecting you to our team…"
AUDIENCES = [
    {
        "key": "recruiter",
        "label": "I'm a recruiter",
        "instructions": "The visitor hires people: be brief and factual.",
        "starter_questions": ["Which roles are you hiring for?"],
    },
    {"key": "peer", "label": "I'm a peer", "instructions": "Talk shop.", "starter_questions": []},
]


def _rules(**rules: Any) -> dict[str, Any]:
    return {"keywords": [], "phrases": [], "on_fallback": False, **rules}


def _actions() -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, name, config) per action, in the configs' contract format."""
    return [
        (
            "link",
            "Booking page",
            {"description": "The visitor wants to book a call.", "rules": _rules(keywords=["book"])}
            | LINK,
        ),
        (
            "collect_lead",
            "Callback",
            {
                "description": "The visitor asks to be called back.",
                "rules": _rules(phrases=["call me back"]),
                "title": "Leave your details",
                "fields": LEAD_FIELDS,
                "success_message": LEAD_SUCCESS,
                "webhook_url": "",
            },
        ),
        (
            "handoff",
            "Human",
            {
                "description": "The visitor wants a person.",
                "rules": _rules(),
                "button_label": "Talk to a person",
                "phrases": ["speak to a human"],
                "fallback_threshold": 0,
                "hours": None,
                "wait_minutes": 30,
                "connecting_message": CONNECTING,
                "unavailable_message": "Nobody is available right now: leave your details.",
            },
        ),
    ]


def _prepare_here() -> dict[str, Any]:
    """Runs in the child process, with DATA_DIR set."""
    from chatapp.core import migrations
    from chatapp.core.db import session_scope
    from chatapp.services.accounts import api_tokens
    from chatapp.services.actions import store as actions_store
    from chatapp.services.bots import bots
    from chatapp.services.models import Bot, BotUpdate
    from tests.utils.knowledge import make_shop

    migrations.upgrade()
    shop = make_shop("live")
    with session_scope() as session:
        owner = shop.tenant.owner
        bots.update_bot(
            session, owner, shop.bot_id, BotUpdate(name="Shop Assistant", audiences=AUDIENCES)
        )
        bot = session.get(Bot, shop.bot_id)
        bot.welcome_message = "Hi! Ask me about our shop."
        bot.starter_questions = ["When are you open on Saturdays?"]
        session.add(bot)
        for kind, name, config in _actions():  # through the service: configs are validated
            actions_store.create_action(session, owner, bot.id, kind=kind, name=name, config=config)
        _, token = api_tokens.create_token(session, owner, name="inbox test")
        return {
            "bot": shop.public_id,
            "key": shop.key,
            "bot_pk": shop.bot_id,
            "workspace": bot.workspace_id,
            "token": token,
        }


def prepare_live(data_dir: Path) -> dict[str, Any]:
    """Prepare `data_dir` in a child process (this process's settings stay untouched)."""
    return prepare(data_dir, "tests.utils.live_stack")


if __name__ == "__main__":
    os.environ["DATA_DIR"] = sys.argv[1]
    print(json.dumps(_prepare_here()))
