"""Editing a pasted text (title, text) or a Q&A pair (question, answer) in place from the Sources
table: the row's dialog opens with the current fields; saving re-trains the same source, and a
refusal is shown next to its field (`SourcesState.errors`, keys "edit.<field>")."""

from __future__ import annotations

import reflex as rx

from chatapp.services.knowledge import source_edits
from chatapp.state import calls
from chatapp.state.sources import SourcesState

FIELDS = {"text": ("title", "text"), "qa": ("question", "answer")}
MAIN_FIELD = {"text": "text", "qa": "answer"}


class SourceEditState(SourcesState):
    edit_id: int = 0  # the source whose dialog is open (0: none)
    edit_kind: str = ""  # text or qa
    edit_title: str = ""
    edit_text: str = ""
    edit_question: str = ""
    edit_answer: str = ""

    @rx.event
    async def toggle_edit(self, open_: bool, source_id: int):
        """The row's dialog opening (with the source's current fields) or closing."""
        if not open_:
            self.edit_id = 0
            return None
        done = await calls.as_member(self, lambda s, a: source_edits.editable(s, a, source_id))
        if not done.ok:
            return done.toast
        found = done.value
        self.errors = {}
        self.edit_kind, self.edit_title, self.edit_text = found.kind, found.title, found.text
        self.edit_question, self.edit_answer = found.question, found.answer
        self.edit_id = found.id
        return None

    @rx.event
    async def save_edit(self, form: dict):
        """Save the form's fields; the source is queued and the table shows it training."""
        self.errors = {}
        edit_id, kind = self.edit_id, self.edit_kind
        if not edit_id or kind not in FIELDS:
            return rx.toast.error("Open a source to edit first.")
        fields = {name: str(form.get(name, "")) for name in FIELDS[kind]}
        done = await calls.as_member(
            self,
            lambda s, a: source_edits.edit_source(s, a, edit_id, **fields),
            field=lambda e: f"edit.{getattr(e, 'field', MAIN_FIELD[kind])}",
        )
        if not done.ok:
            return done.toast
        self.edit_id = 0
        return await self._changed("Saved: re-training with the new wording.")
