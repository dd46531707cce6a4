"""The Actions page: the bot's actions, the editor (per kind, errors listed), enable/disable,
delete, the Test button's outcome and the run log. Every handler calls one service."""

from __future__ import annotations

import dataclasses
import json

import reflex as rx

from chatapp.services.actions import execute as runner
from chatapp.services.actions import run_log, store, templates
from chatapp.services.actions.common import ActionInvalid
from chatapp.services.models import ActionRunOutcome
from chatapp.state import calls
from chatapp.state.actions_form import ActionDraft, config_of, draft_of, from_form
from chatapp.state.bot_scope import BotScopeState

EDITOR_ROLES = ("owner", "admin")  # MANAGE_BOTS


@dataclasses.dataclass
class ActionRow:
    id: int = 0
    kind: str = ""
    kind_label: str = ""
    name: str = ""
    enabled: bool = True
    summary: str = ""


@dataclasses.dataclass
class RunRow:
    id: int = 0
    time: str = ""
    action: str = ""
    conversation: str = ""
    trigger: str = ""
    input: str = ""
    outcome: str = ""
    output: str = ""
    error: str = ""


def _summary(kind: str, config: dict) -> str:
    if kind == "http":
        return f"{config.get('method', '')} {config.get('url', '')}"
    if kind == "link":
        return f"{config.get('label', '')} -> {config.get('url', '')}"
    if kind == "collect_lead":
        return ", ".join(f["name"] for f in config.get("fields") or [])
    return config.get("button_label", "")


class ActionsState(BotScopeState):
    rows: list[ActionRow] = []
    run_rows: list[RunRow] = []
    kinds: list[list[str]] = [[k, templates.KIND_LABELS[k]] for k in templates.KINDS]

    editor_open: bool = False
    editing_id: int = 0
    editing_kind: str = ""
    draft: ActionDraft = ActionDraft()
    errors: list[str] = []

    test_input: str = ""
    test_outcome: str = ""
    test_message: str = ""

    @rx.var
    def can_edit_actions(self) -> bool:
        return self.role in EDITOR_ROLES

    @rx.var
    def editing_label(self) -> str:
        return templates.KIND_LABELS.get(self.editing_kind, "")

    @rx.var
    def editing_new(self) -> bool:
        """The editor holds a template not saved yet (Save creates the action)."""
        return self.editing_id == 0

    @rx.event
    async def load(self):
        if not self.bot_id:
            self.rows, self.run_rows = [], []
            return None
        bot_id = self.bot_id
        done = await calls.as_member(
            self,
            lambda s, a: (
                [store.view(action) for action in store.list_actions(s, a, bot_id)],
                run_log.list_runs(s, a, bot_id, limit=50),
            ),
        )
        if not done.ok:
            return done.toast
        found, logged = done.value
        self.rows = [
            ActionRow(
                a.id,
                a.kind,
                templates.KIND_LABELS[a.kind],
                a.name,
                a.enabled,
                _summary(a.kind, a.config),
            )
            for a in found
        ]
        self.run_rows = [
            RunRow(
                id=r.id,
                time=r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                action=r.action_name,
                conversation=f"#{r.conversation_id}" if r.conversation_id else "-",
                trigger=r.trigger,
                input=json.dumps(r.input, ensure_ascii=False)[:200],
                outcome=r.outcome,
                output=r.output[:200],
                error=r.error,
            )
            for r in logged
        ]
        return None

    @rx.event
    async def start_from_template(self, kind: str):
        """The editor, filled with the kind's template; nothing exists until Save."""
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: store.from_template(s, a, bot_id, kind))
        if not done.ok:
            return done.toast
        self._open(done.value)
        return None

    def _open(self, view: store.ActionView) -> None:
        self.editing_id, self.editing_kind = view.id, view.kind
        self.draft = draft_of(view.name, view.config)
        self.errors, self.test_outcome, self.test_message = [], "", ""
        self.test_input = '{"order_id": "12345"}' if view.kind == "http" else ""
        self.editor_open = True

    @rx.event
    async def open_edit(self, action_id: int):
        bot_id = self.bot_id
        done = await calls.as_member(
            self, lambda s, a: store.view(store.get_action(s, a, action_id, bot_id))
        )
        if not done.ok:
            return done.toast
        self._open(done.value)
        return None

    @rx.event
    def set_editor_open(self, value: bool):
        self.editor_open = value

    @rx.event
    async def save(self, form: dict):
        self.errors = []
        draft = from_form(form)
        editing_id, kind, bot_id = self.editing_id, self.editing_kind, self.bot_id

        def create(session, actor):
            config = config_of(kind, draft, templates.defaults(kind))
            store.create_action(session, actor, bot_id, kind=kind, name=draft.name, config=config)

        def update(session, actor):
            action = store.get_action(session, actor, editing_id, bot_id)
            config = config_of(action.kind, draft, store.view(action).config)
            store.update_action(session, actor, action.id, name=draft.name, config=config)

        done = await calls.as_member(self, update if editing_id else create)
        if isinstance(done.error, ActionInvalid):  # listed above the editor's fields
            self.errors = [f"{field}: {problem}" for field, problem in done.error.errors.items()]
            self.draft = draft
            return None
        if not done.ok:
            return done.toast
        self.editor_open = False
        saved = "Action saved." if editing_id else f"{draft.name or self.editing_label} added."
        return [ActionsState.load, rx.toast.success(saved)]

    @rx.event
    async def set_enabled(self, action_id: int, value: bool):
        done = await calls.as_member(
            self, lambda s, a: store.update_action(s, a, action_id, enabled=value)
        )
        return done.toast or ActionsState.load

    @rx.event
    async def delete(self, action_id: int):
        done = await calls.as_member(self, lambda s, a: store.delete_action(s, a, action_id))
        if not done.ok:
            return done.toast
        return [ActionsState.load, rx.toast.success("Action deleted.")]

    @rx.event
    def set_test_input(self, value: str):
        self.test_input = value[:4000]

    @rx.event
    async def test(self):
        """Run the saved action with the sample input; show its outcome in words."""
        self.test_outcome, self.test_message = "", ""
        try:
            params = json.loads(self.test_input) if self.test_input.strip() else {}
        except ValueError:
            self.test_outcome, self.test_message = (
                ActionRunOutcome.REFUSED,
                "The sample input is not JSON.",
            )
            return None
        if not isinstance(params, dict):
            params = {}
        editing_id, bot_id = self.editing_id, self.bot_id
        done = await calls.as_member(  # an HTTP action calls out: never on the loop
            self, lambda s, a: runner.test_action(s, a, editing_id, bot_id, params=params)
        )
        if not done.ok:
            return done.toast
        outcome = done.value
        self.test_outcome = outcome.outcome
        self.test_message = outcome.error or outcome.answer or outcome.output
        return ActionsState.load
