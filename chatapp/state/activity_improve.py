""" "Improve answer" in an Activity conversation: the bot message's dialog opens with the visitor's
question and the bot's answer (or the pair already written from it); saving writes the Q&A pair
through `services.reports.improve_answer`, and the worker trains it."""

from __future__ import annotations

import reflex as rx

from chatapp.services.reports import improve_answer
from chatapp.state import calls
from chatapp.state.activity import ActivityState


class ImproveAnswerState(ActivityState):
    improve_id: int = 0  # the bot message whose dialog is open (0: none)
    improve_question: str = ""
    improve_answer: str = ""
    improve_updates: bool = False  # saving updates an existing pair rather than adding one
    errors: dict[str, str] = {}  # "improve.question" / "improve.answer" -> the refusal

    @rx.event
    async def toggle_improve(self, open_: bool, message_id: int):
        """The message's dialog opening (with its draft) or closing."""
        if not open_:
            self.improve_id = 0
            return None
        done = await calls.as_member(self, lambda s, a: improve_answer.draft(s, a, message_id))
        if not done.ok:
            return done.toast
        draft = done.value
        self.errors = {}
        self.improve_question, self.improve_answer = draft.question, draft.answer
        self.improve_updates = draft.source_id is not None
        self.improve_id = draft.message_id
        return None

    @rx.event
    async def save_improve(self, form: dict):
        """Save the pair; the bot learns it in a moment (the Sources page shows it training)."""
        self.errors = {}
        message_id = self.improve_id
        if not message_id:
            return rx.toast.error("Open a bot message to improve first.")
        question, answer = str(form.get("question", "")), str(form.get("answer", ""))
        done = await calls.as_member(
            self,
            lambda s, a: improve_answer.improve_answer(
                s, a, message_id, answer=answer, question=question
            ),
            field=lambda e: f"improve.{getattr(e, 'field', 'answer')}",
        )
        if not done.ok:
            return done.toast
        self.improve_id = 0
        return rx.toast.success(
            "Answer saved as a Q&A pair: the bot learns it in a moment (see Sources)."
        )
