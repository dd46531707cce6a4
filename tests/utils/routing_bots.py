"""A workspace with a router bot and three specialised bots (billing, shipping, technical
support: the benchmark's bots and knowledge), made through the real services and worker."""

from __future__ import annotations

from dataclasses import dataclass

from bench.routing import BOTS
from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from chatapp.services.knowledge import sources
from chatapp.services.models import BotCreate, BotUpdate
from chatapp.workers import ingest as worker
from tests.utils.factories import Tenant, make_tenant


@dataclass
class RouterDesk:
    tenant: Tenant
    router_id: int
    router_public_id: str
    key: str  # the router's widget key
    bots: dict[str, int]  # billing / shipping / technical -> bot id
    names: dict[int, str]  # bot id -> bot name


def make_router_desk(label: str = "r") -> RouterDesk:
    with session_scope() as session:
        tenant = make_tenant(session, label)
        owner = tenant.owner
        ids: dict[str, int] = {}
        names: dict[int, str] = {}
        for kind, (name, description, texts) in BOTS.items():
            bot = bots.create_bot(session, owner, BotCreate(name=name))
            bots.update_bot(session, owner, bot.id, BotUpdate(description=description))
            for title, text in texts.items():
                sources.add_text(session, owner, bot.id, title=title, text=f"{title}\n\n{text}")
            ids[kind], names[bot.id] = bot.id, name
        router = bots.update_bot(
            session, owner, tenant.bot.id, BotUpdate(name="Front desk", is_router=True)
        )
        _, key = bots.create_widget_key(session, owner, router.id)
        router_id, public_id = router.id, router.public_id
    worker.run_until_idle()
    return RouterDesk(tenant, router_id, public_id, key, ids, names)
