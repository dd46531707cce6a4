"""The dashboard's handlers for "Improve answer" (Activity) and for reading and editing a source
(Sources), run on plain states logged in as a browser would be, on SQLite and PostgreSQL: what the
dialogs show, refusals beside their field, and the sub-states writing the page state's table."""

from __future__ import annotations

import pytest
import reflex as rx
from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.services.models import Source
from chatapp.state.activity_improve import ImproveAnswerState
from chatapp.state.source_details import SourceDetailsState
from chatapp.state.source_edit import SourceEditState
from chatapp.state.sources import SourcesState
from tests.utils.dashboard_login import sign_in
from tests.utils.handlers import run
from tests.utils.tenant_world import World, make_world


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path, monkeypatch, migrated_templates):
    with migrated_templates.seeded(
        request.param, "one-world", lambda: make_world("a"), tmp_path / "test.db", monkeypatch
    ) as built:
        yield built


def _page_state(cls: type[rx.State], world: World, role: str = "owner"):
    """The state as `role` sees it in a browser, with the page's bot chosen and loaded."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    sign_in(state, world.login_tokens[role])
    state.workspace_id, state.role = str(world.workspace_id), role
    run(state.require_login())
    state.chosen_bot = str(world.bot_id)
    run(state.load_bots())
    run(state.load())
    return state


def test_a_sources_text_and_chunks_are_shown_to_any_member(world):
    state = _page_state(SourceDetailsState, world, "viewer")
    assert run(state.toggle_details(True, world.source_id)) == []
    assert state.detail_id == world.source_id and world.marker in state.detail_text
    assert [c.index for c in state.detail_chunks] == [1]
    assert world.marker in state.detail_chunks[0].text
    assert state.chunks_label == "1 chunk." and not state.more_chunks
    run(state.toggle_details(False, world.source_id))
    assert (state.detail_id, state.detail_chunks) == (0, [])


def test_a_text_is_edited_in_place_and_the_table_shows_it_training(world):
    state = _page_state(SourceEditState, world)
    run(state.toggle_edit(True, world.source_id))
    assert (state.edit_id, state.edit_kind) == (world.source_id, "text")
    assert world.marker in state.edit_text and world.marker in state.edit_title

    run(state.save_edit({"title": "Hours", "text": "   "}))
    table = state.parent_state  # the Sources page state, which the table and field errors read
    assert isinstance(table, SourcesState)
    assert table.errors == {"edit.text": "Paste some text first."}  # shown under the field
    assert state.edit_id == world.source_id  # the dialog stays open

    events = run(state.save_edit({"title": "Hours", "text": "We open at 10am on weekdays."}))
    assert state.edit_id == 0 and "Saved" in repr(events)
    row = next(r for r in table.rows if r.id == world.source_id)
    assert (row.title, row.status) == ("Hours", "queued")
    with session_scope() as session:
        assert session.get_one(Source, world.source_id).meta["text"].startswith("We open at 10am")


def test_an_answer_is_improved_from_the_open_conversation(world):
    state = _page_state(ImproveAnswerState, world)
    run(state.open_conversation(world.conversation_id))
    answers = [m.id for m in state.detail_messages if m.role == "assistant"]
    assert world.answer_message_id in answers
    assert all(m.id == 0 for m in state.detail_messages if m.role == "user")

    run(state.toggle_improve(True, world.answer_message_id))
    assert state.improve_id == world.answer_message_id
    assert state.improve_question == f"When do you open? {world.marker}"
    assert state.improve_answer and "[1]" not in state.improve_answer
    question = state.improve_question

    run(state.save_improve({"question": question, "answer": ""}))
    assert state.errors == {"improve.answer": "Write both the question and its answer."}
    events = run(state.save_improve({"question": question, "answer": "From 10am, every day."}))
    assert state.improve_id == 0 and "Q&A pair" in repr(events)
    with session_scope() as session:
        (pair,) = session.exec(select(Source).where(Source.kind == "qa")).all()
    assert pair.meta["answer"] == "From 10am, every day." and pair.status == "queued"


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_members_who_may_not_change_the_bot_cannot_improve(world, role):
    state = _page_state(ImproveAnswerState, world, role)
    events = run(state.toggle_improve(True, world.answer_message_id))
    assert state.improve_id == 0 and f"Your role ({role})" in repr(events)
    run(state.save_improve({"question": "Q?", "answer": "A."}))
    with session_scope() as session:
        assert session.exec(select(Source).where(Source.kind == "qa")).all() == []
