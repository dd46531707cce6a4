"""A bot with one of everything a bot file carries, made through the real services and trained
by the real worker; and what a test compares between a bot and its imported copy."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlmodel import col, select

from chatapp.core.db import session_scope
from chatapp.services.actions import store
from chatapp.services.bots import avatars, bot_export, bots
from chatapp.services.knowledge import sources
from chatapp.services.models import Action, Bot, BotUpdate, KnowledgeChunk, Source
from chatapp.workers import ingest as worker
from tests.utils.factories import Tenant
from tests.utils.knowledge import HOURS, SHIPPING_A, SHIPPING_Q
from tests.utils.mutable_site import page

ORIGIN = "https://shop.example"  # the site the bot's widget is allowed on
SETTINGS = {
    "welcome_message": "Hello from Acme bikes!",
    "instructions": "Answer in short sentences.",
    "fallback_message": "Sorry, I do not know that one. Call us on 01 23 45 67 89.",
    "accent_color": "#0f766e",
    "position": "bottom-left",
    "show_button_text": True,
    "button_text": "Ask Acme",
    "starter_questions": ["When are you open?", "Do you ship to Canada?"],
    "allowed_domains": ["shop.example"],
    "model": "gpt-4o-mini",
    "temperature": 0.7,
    "description": "Answers questions about the Acme bike shop.",
    "message_limit": 250,
    "audiences": [
        {
            "key": "riders",
            "label": "Riders",
            "instructions": "Mention our repair service.",
            "starter_questions": ["How much is a puncture repair?"],
        }
    ],
}
SITE = {
    "/": page("Acme bikes", "Acme bikes is the bike shop of Lyon since 1984.", ["/repairs"]),
    "/repairs": page("Repairs", "We repair punctures in 20 minutes for 15 euros.", ["/"]),
}
CARE = b"# Bike care\n\nOil the chain every month and check the tyre pressure every week.\n"
# Secrets the export must leave out: each is typed into an action below.
SECRETS = ("s3cret-bearer-token", "plain-key-456", "k-123", "hook-token-789")
QUESTIONS = (
    "When are you open on Saturday?",
    SHIPPING_Q,
    "How much does a puncture repair cost?",
    "How often should I oil the chain?",
)


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (15, 118, 110)).save(out, format="PNG")
    return out.getvalue()


def make_rich_bot(tenant: Tenant, site_url: str) -> int:
    """The tenant's bot with every setting, an avatar, a source of each kind (one of them a
    page that does not exist, so it is exported untrained) and an action of each kind."""
    owner, bot_id = tenant.owner, tenant.bot.id
    with session_scope() as session:
        bots.update_bot(session, owner, bot_id, BotUpdate(**SETTINGS))
        avatars.set_avatar(session, owner, bot_id, picture())
        sources.add_text(session, owner, bot_id, title="Hours", text=HOURS)
        sources.add_qa(session, owner, bot_id, question=SHIPPING_Q, answer=SHIPPING_A)
        sources.add_file(session, owner, bot_id, filename="care.md", data=CARE)
        sources.add_website(session, owner, bot_id, url=site_url + "/", max_pages=5, max_depth=1)
        sources.add_url(session, owner, bot_id, url=site_url + "/gone")
        _add_actions(session, tenant, site_url)
    worker.run_until_idle()
    return bot_id


def _add_actions(session, tenant: Tenant, site_url: str) -> None:
    owner, bot_id = tenant.owner, tenant.bot.id
    store.create_action(
        session, owner, bot_id, kind="collect_lead",
        config={"webhook_url": f"{site_url}/hooks/{SECRETS[3]}"},
    )  # fmt: skip
    store.create_action(
        session,
        owner,
        bot_id,
        kind="http",
        name="Order status",
        config={
            "url": f"{site_url}/orders/{{order_id}}?api_key={SECRETS[2]}&lang=en",
            "headers": [
                {"name": "Authorization", "value": f"Bearer {SECRETS[0]}", "secret": True},
                {"name": "X-Api-Key", "value": SECRETS[1], "secret": False},
                {"name": "Accept-Language", "value": "en", "secret": False},
            ],
        },
    )
    store.create_action(session, owner, bot_id, kind="link", name="Book a fitting")


def export(tenant: Tenant, bot_id: int) -> bot_export.BotExport:
    with session_scope() as session:
        return bot_export.export_bot(session, tenant.owner, bot_id)


def settings_of(bot_id: int) -> dict[str, Any]:
    with session_scope() as session:
        bot = session.get_one(Bot, bot_id)
        return {name: getattr(bot, name) for name in (*SETTINGS, "name", "status", "is_router")}


def knowledge_of(bot_id: int) -> list[tuple]:
    """Each source (pages under their site) with its passages, without ids, paths or times."""
    with session_scope() as session:
        rows = session.exec(select(Source).where(Source.bot_id == bot_id)).all()
        by_id = {row.id: row for row in rows}
        out = []
        for row in sorted(rows, key=lambda r: (r.kind, r.url, r.title)):
            chunks = session.exec(
                select(KnowledgeChunk)
                .where(KnowledgeChunk.source_id == row.id)
                .order_by(col(KnowledgeChunk.position))
            ).all()
            meta = {k: v for k, v in row.meta.items() if k not in ("path", "last_sync")}
            parent = by_id[row.parent_id].url if row.parent_id else None
            passages = [(c.position, c.text, c.title, c.heading, c.page, c.url) for c in chunks]
            figures = (row.chunk_count, row.char_count, row.size_bytes, row.content_hash)
            out.append((row.kind, row.title, row.url, parent, meta, figures, passages))
        return out


def actions_of(bot_id: int) -> dict[str, Action]:
    with session_scope() as session:
        found = session.exec(select(Action).where(Action.bot_id == bot_id)).all()
        session.expunge_all()
        return {action.kind: action for action in found}
