"""Activity and Analytics filter by audience; Activity names the bot a router sent a question
to; another workspace's conversations never show, whatever the filter."""

import pytest

from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.bots import bots
from chatapp.services.models import BotUpdate
from chatapp.services.reports import activity, analytics
from chatapp.services.reports.analytics import DateRange
from tests.utils.knowledge import BotKey, ask, make_shop
from tests.utils.routing_bots import make_router_desk

AUDIENCES = [{"label": "Recruiter"}, {"label": "Peer engineer"}]


@pytest.fixture
def shops(database_url):
    mine, theirs = make_shop("mine"), make_shop("theirs")
    with session_scope() as session:
        for shop in (mine, theirs):
            bots.update_bot(session, shop.tenant.owner, shop.bot_id, BotUpdate(audiences=AUDIENCES))
    ask(mine, "What are your opening hours?", audience="recruiter")
    ask(mine, "Do you ship to Canada?", audience="peer-engineer")
    ask(mine, "Can I return an item?")
    ask(theirs, "What are your opening hours?", audience="recruiter")
    return mine, theirs


def listed(shop, **filters):
    with session_scope() as session:
        page = activity.list_conversations(
            session, shop.tenant.owner, activity.ActivityFilter(**filters)
        )
    return page.rows


def test_activity_filters_by_audience_within_the_workspace(shops):
    mine, _ = shops
    assert len(listed(mine)) == 3
    recruiters = listed(mine, audience="recruiter")
    assert [r.audience for r in recruiters] == ["recruiter"]
    assert recruiters[0].first_question == "What are your opening hours?"
    assert [r.audience for r in listed(mine, audience="peer-engineer")] == ["peer-engineer"]
    assert listed(mine, audience="nobody") == []
    with pytest.raises(ValidationFailed):
        listed(mine, audience="x" * 41)


def test_analytics_counts_one_audience(shops):
    mine, _ = shops
    with session_scope() as session:
        every = analytics.report(session, mine.tenant.owner, bot_id=None, period=DateRange.last(7))
        one = analytics.report(
            session, mine.tenant.owner, bot_id=None, period=DateRange.last(7), audience="recruiter"
        )
    assert every.totals.conversations == 3 and every.totals.messages == 6  # question + answer
    assert one.totals.conversations == 1 and one.totals.messages == 2


def test_activity_shows_which_bot_a_router_sent_the_question_to(database_url):
    desk = make_router_desk()
    reply = ask(BotKey(desk.router_public_id, desk.key), "How do I reset my password?")
    with session_scope() as session:
        detail = activity.get_conversation(session, desk.tenant.owner, reply.conversation_id)
    assistant = next(m for m in detail.messages if m.role == "assistant")
    assert assistant.routed_bot == "Technical support"
    assert detail.row.bot_name == "Front desk"
