""" "Improve answer" on SQLite and PostgreSQL: a visitor's answer corrected by the owner becomes a
Q&A pair that the real worker trains, and the next visitor gets it, citing the pair."""

from __future__ import annotations

import pytest
from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied, ValidationFailed
from chatapp.services.knowledge.sources import SourceInputInvalid
from chatapp.services.models import Message, Source
from chatapp.services.reports import improve_answer as improve
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant
from tests.utils.knowledge import SHIPPING_Q, ask

SATURDAY = "When do you open on Saturdays?"
BETTER = "On Saturdays we open from 9am to 1pm, since May."


def _pairs(shop) -> list[Source]:
    with session_scope() as session:
        return list(
            session.exec(
                select(Source).where(Source.bot_id == shop.bot_id, Source.kind == "qa")
            ).all()
        )


def _improve(actor, message_id, **fields) -> Source:
    with session_scope() as session:
        return improve.improve_answer(session, actor, message_id, **fields)


def test_the_next_visitor_gets_the_improved_answer_citing_the_pair(shop_bot):
    before = ask(shop_bot, SATURDAY)
    assert "10am to 4pm" in before.answer and before.sources[0]["title"] == "Hours"
    with session_scope() as session:
        draft = improve.draft(session, shop_bot.tenant.admin, before.message_id)
    assert (draft.question, draft.source_id) == (SATURDAY, None)
    assert draft.answer == "On Saturdays we open from 10am to 4pm."  # without its "[1]"

    pair = _improve(shop_bot.tenant.admin, before.message_id, answer=BETTER)
    assert (pair.kind, pair.status) == ("qa", "queued")
    assert pair.meta["question"] == SATURDAY and pair.meta["answer"] == BETTER
    worker.run_until_idle()

    after = ask(shop_bot, SATURDAY)  # a new visitor
    assert "9am to 1pm" in after.answer and "10am to 4pm" not in after.answer
    assert [s["source_id"] for s in after.sources] == [pair.id]
    assert "9am to 1pm" in ask(shop_bot, "what time do you open on saturday?").answer


def test_saving_again_updates_the_pair_it_wrote(shop_bot):
    answered = ask(shop_bot, SATURDAY).message_id
    first = _improve(shop_bot.tenant.owner, answered, answer=BETTER)
    worker.run_until_idle()
    with session_scope() as session:
        draft = improve.draft(session, shop_bot.tenant.owner, answered)
    assert (draft.source_id, draft.answer) == (first.id, BETTER)  # the form shows the pair
    second = _improve(
        shop_bot.tenant.owner, answered, answer="Saturdays: 9am to 2pm.", question="Open Saturday?"
    )
    assert second.id == first.id and second.meta["question"] == "Open Saturday?"
    assert len(_pairs(shop_bot)) == 2  # the shop's shipping pair and this one, no duplicate
    worker.run_until_idle()
    assert "9am to 2pm" in ask(shop_bot, "Are you open on Saturday?").answer


def test_an_answer_given_by_a_pair_corrects_that_pair(shop_bot):
    (shipping,) = _pairs(shop_bot)
    before = ask(shop_bot, SHIPPING_Q)
    assert [s["source_id"] for s in before.sources] == [shipping.id]
    with session_scope() as session:
        assert improve.draft(session, shop_bot.tenant.owner, before.message_id).source_id == (
            shipping.id
        )
    pair = _improve(shop_bot.tenant.owner, before.message_id, answer="Yes, in 3 days with DHL.")
    assert pair.id == shipping.id and len(_pairs(shop_bot)) == 1
    worker.run_until_idle()
    assert ask(shop_bot, SHIPPING_Q).answer.startswith("Yes, in 3 days with DHL")


def test_refusals_write_nothing(shop_bot):
    reply = ask(shop_bot, SATURDAY)
    tenant = shop_bot.tenant
    with session_scope() as session:
        question_id = session.exec(
            select(Message.id).where(Message.role == "user", Message.id < reply.message_id)
        ).first()
    cases = [
        (tenant.owner, reply.message_id, {"answer": "  "}, SourceInputInvalid, "answer"),
        (tenant.owner, reply.message_id, {"answer": "x" * 10_001}, SourceInputInvalid, "answer"),
        (
            tenant.owner,
            reply.message_id,
            {"answer": "A", "question": ""},
            SourceInputInvalid,
            "question",
        ),
        (tenant.owner, question_id, {"answer": "A"}, ValidationFailed, "bot's answers"),
        (tenant.agent, reply.message_id, {"answer": "A"}, PermissionDenied, "agent"),
        (tenant.viewer, reply.message_id, {"answer": "A"}, PermissionDenied, "viewer"),
        (tenant.owner, 999_999, {"answer": "A"}, NotFound, "Message not found"),
    ]
    for actor, message_id, fields, error, words in cases:
        with pytest.raises(error) as refused:
            _improve(actor, message_id, **fields)
        assert words in getattr(refused.value, "field", "") + refused.value.message
    assert len(_pairs(shop_bot)) == 1  # only the shop's own pair


def test_another_workspaces_answers_cannot_be_read_or_improved(shop_bot):
    reply = ask(shop_bot, SATURDAY)
    with session_scope() as session:
        stranger = make_tenant(session, "stranger")
    for call in (
        lambda s: improve.draft(s, stranger.owner, reply.message_id),
        lambda s: improve.improve_answer(s, stranger.owner, reply.message_id, answer="Mine."),
    ):
        with pytest.raises(NotFound), session_scope() as session:
            call(session)
    assert len(_pairs(shop_bot)) == 1
    with session_scope() as session:
        assert session.exec(select(Source).where(Source.bot_id == stranger.bot.id)).all() == []


def test_an_answer_without_a_question_needs_one(shop_bot):
    shop = shop_bot
    reply = ask(shop, SATURDAY)
    with session_scope() as session:  # the visitor's question is gone (e.g. erased by hand)
        for row in session.exec(select(Message).where(Message.role == "user")):
            session.delete(row)
    with pytest.raises(SourceInputInvalid) as refused:
        _improve(shop.tenant.owner, reply.message_id, answer=BETTER)
    assert refused.value.field == "question"
    pair = _improve(shop.tenant.owner, reply.message_id, answer=BETTER, question=SATURDAY)
    assert pair.meta["question"] == SATURDAY
