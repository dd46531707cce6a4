"""Questions the content does not cover are refused, offline, and every refusal is counted where
the owner looks: Activity's unanswered filter, Analytics' unanswered figure and the
missing-content report (which lists a thumbs-down answer too)."""

from __future__ import annotations

import pytest

from chatapp.core.db import session_scope
from chatapp.services.chat import feedback
from chatapp.services.reports import activity, analytics
from chatapp.services.reports.analytics import DateRange
from chatapp.services.reports.missing_content import forget_cached_vectors, missing_content
from tests.utils.knowledge import ask, make_shop

# On the shop's subject, but not in its content (hours, returns, shipping to Canada).
NOT_COVERED = ["Do you sell gift cards?", "Can I pay with Bitcoin?", "Do you rent bikes?"]
COVERED = ["When are you open on Saturdays?", "Can I return an item I bought?"]


@pytest.fixture
def shop_bot_without_cached_vectors(database_url):
    forget_cached_vectors()
    yield make_shop("a")
    forget_cached_vectors()


def test_what_the_content_does_not_cover_is_refused_and_counted_everywhere(
    shop_bot_without_cached_vectors,
):
    for question in COVERED:
        reply = ask(shop_bot_without_cached_vectors, question)
        assert reply.answered and reply.sources, (question, reply.answer)
    fallback = None
    for question in NOT_COVERED:
        reply = ask(shop_bot_without_cached_vectors, question)
        assert not reply.answered and reply.sources == [], (question, reply.answer)
        fallback = fallback or reply.answer
        assert reply.answer == fallback  # the bot's fallback message, not loosely related text
    disliked = ask(shop_bot_without_cached_vectors, "When are you open on Saturdays?")
    with session_scope() as session:
        feedback.rate_answer(
            session,
            bot_id=shop_bot_without_cached_vectors.public_id,
            api_key=shop_bot_without_cached_vectors.key,
            origin=None,
            referer=None,
            session_id=disliked.session_id,
            message_id=disliked.message_id,
            rating="down",
        )
    owner = shop_bot_without_cached_vectors.tenant.owner
    period = DateRange.last(1)
    with session_scope() as session:
        totals = analytics.report(
            session, owner, bot_id=shop_bot_without_cached_vectors.bot_id, period=period
        ).totals
        page = activity.list_conversations(
            session,
            owner,
            activity.ActivityFilter(bot_id=shop_bot_without_cached_vectors.bot_id, unanswered=True),
        )
        groups = missing_content(
            session, owner, bot_id=shop_bot_without_cached_vectors.bot_id, period=period
        )
    assert (totals.answers, totals.unanswered, totals.thumbs_down) == (6, 3, 1)
    assert page.total == len(NOT_COVERED)
    listed = {g.question for g in groups} | {e for g in groups for e in g.examples}
    assert set(NOT_COVERED) <= listed
    assert "When are you open on Saturdays?" in listed  # the thumbs-down answer's question
