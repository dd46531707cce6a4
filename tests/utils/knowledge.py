"""A small shop's knowledge, ingested through the real sources service and worker."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from chatapp.services.knowledge import sources
from chatapp.workers import ingest as worker
from tests.utils.factories import Tenant, make_tenant

HOURS = (
    "Opening hours\n\nOur shop in Lyon is open Monday to Friday from 9am to 6pm. "
    "On Saturdays we open from 10am to 4pm. We are closed on Sundays and public holidays."
)
RETURNS = (
    "Returns policy\n\nYou can return any item within 30 days of delivery for a full refund. "
    "Items must be unused and in their original packaging."
)
SHIPPING_Q = "Do you ship to Canada?"
SHIPPING_A = "Yes, we ship to Canada in 5 to 8 days."


@dataclass
class Shop:
    tenant: Tenant
    key: str  # the widget key, plain
    public_id: str

    @property
    def bot_id(self) -> int:
        return self.tenant.bot.id


def make_shop(label: str = "a") -> Shop:
    with session_scope() as session:
        tenant = make_tenant(session, label)
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        sources.add_text(session, tenant.owner, tenant.bot.id, title="Hours", text=HOURS)
        sources.add_text(session, tenant.owner, tenant.bot.id, title="Returns", text=RETURNS)
        sources.add_qa(session, tenant.owner, tenant.bot.id, question=SHIPPING_Q, answer=SHIPPING_A)
    worker.run_until_idle()
    return Shop(tenant, key, tenant.bot.public_id)


def new_session_id() -> str:
    return "visitor-" + secrets.token_hex(8)
