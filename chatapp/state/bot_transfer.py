"""The Bots page's export and import: a bot as one JSON file, downloaded from its card, and a bot
file imported into any workspace the member manages (services/bots/bot_export.py, bot_import.py).

The import may name another workspace than the one on screen: the member is checked there, as
there, by the service (`actor_of` reads the membership of that workspace). Its problems are
listed beside the upload control, all of them, as the service words them.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from chatapp.core.config import Settings
from chatapp.services.bots import bot_export, bot_import, transfer_format
from chatapp.services.knowledge.schemas import MB
from chatapp.state import calls
from chatapp.state.auth import WorkspaceOption
from chatapp.state.bot_scope import BotScopeState
from chatapp.state.bots import OPEN_SECTION, BotsState

MANAGER_ROLES = ("owner", "admin")
DEFAULT_LIMIT_MB = Settings.model_fields["bot_transfer_max_mb"].default


@dataclasses.dataclass(frozen=True)
class Imported:
    """What the dialog shows of an import, read inside the service's session."""

    bot_id: int
    name: str
    summary: str
    to_fill_in: list[str]
    notes: list[str]


def _imported(result: bot_import.ImportResult) -> Imported:
    parts = [f"{result.sources} source{'s' if result.sources != 1 else ''}"]
    parts.append(f"{result.passages} passages")
    parts.append(f"{result.actions} action{'s' if result.actions != 1 else ''}")
    return Imported(
        bot_id=result.bot.id,
        name=result.bot.name,
        summary=", ".join(parts),
        to_fill_in=list(result.to_fill_in),
        notes=list(result.notes),
    )


def _size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{max(1, round(size / 1024))} KB"


class BotTransferState(BotsState):
    import_open: bool = False
    import_target: str = ""
    import_busy: bool = False
    import_problems: list[str] = []
    max_import_bytes: int = int(DEFAULT_LIMIT_MB * MB)
    import_limit_label: str = f"{DEFAULT_LIMIT_MB:g} MB"
    imported_bot_id: int = 0
    imported_name: str = ""
    imported_summary: str = ""
    imported_workspace_id: str = ""
    imported_workspace_name: str = ""
    imported_to_fill_in: list[str] = []
    imported_notes: list[str] = []

    @rx.var
    def import_targets(self) -> list[WorkspaceOption]:
        """The workspaces this member may import into: those they own or administer."""
        return [o for o in self.workspace_options if o.role in MANAGER_ROLES]

    @rx.event
    def set_import_open(self, value: bool):
        self.import_open = value
        if value:
            self._forget_import()
            targets = [o.id for o in self.import_targets]
            self.import_target = self.workspace_id if self.workspace_id in targets else ""
            self.import_target = self.import_target or (targets[0] if targets else "")
            self.max_import_bytes = transfer_format.limit_bytes()
            self.import_limit_label = transfer_format.limit_label()

    @rx.event
    def set_import_target(self, value: str):
        self.import_target = value

    @rx.event
    async def import_file(self, files: list[rx.UploadFile]):
        """Import the dropped file into the chosen workspace; problems beside the control."""
        if not files:  # the browser refused it: `import_rejected` says why
            return
        self._forget_import()
        target = next((o for o in self.import_targets if o.id == self.import_target), None)
        if target is None:
            self.import_problems = ["Choose a workspace you own or administer."]
            return
        data = await files[0].read(self.max_import_bytes + 1)
        self.import_busy = True
        yield
        who = dataclasses.replace(self._who(), workspace_id=target.id)
        try:
            done = await calls.in_session(
                self,
                lambda s: _imported(bot_import.import_bot(s, calls.actor_of(s, who), data)),
                quiet=True,
            )
        finally:
            self.import_busy = False
        if not done.ok or done.value is None:
            error = done.error
            self.import_problems = list(getattr(error, "problems", None) or [error.message])
            return
        result = done.value
        self.imported_bot_id, self.imported_name = result.bot_id, result.name
        self.imported_summary = result.summary
        self.imported_workspace_id, self.imported_workspace_name = target.id, target.name
        self.imported_to_fill_in, self.imported_notes = result.to_fill_in, result.notes
        yield rx.toast.success(f"Imported {result.name} into {target.name}.")
        if target.id == self.workspace_id:
            yield BotsState.load

    @rx.event
    def import_rejected(self, _rejected: list):
        """The browser refused the file before sending it (its type or size)."""
        self._forget_import()
        self.import_problems = [
            f"Choose a bot file (.json) of at most {self.import_limit_label}, as exported by "
            "Chatapp."
        ]

    @rx.event
    async def open_imported(self):
        """Go to the imported bot's Playground, in the workspace it was imported into."""
        scope = await self.get_state(BotScopeState)
        scope.chosen_bot = str(self.imported_bot_id)
        self.chosen_workspace = self.imported_workspace_id
        self.import_open = False
        return rx.redirect(OPEN_SECTION)

    @rx.event
    async def export(self, bot_id: int):
        """Download the bot's file (through the websocket, like the other exports)."""
        done = await calls.as_member(self, lambda s, a: bot_export.export_bot(s, a, bot_id))
        if not done.ok or done.value is None:
            return done.toast
        made = done.value
        said = f"Exported {made.filename} ({_size(made.size_bytes)})."
        if made.to_fill_in:
            count = len(made.to_fill_in)
            said += f" {count} secret{'s' if count > 1 else ''} left out: to enter after import."
        return [
            rx.download(data=made.content, filename=made.filename, mime_type="application/json"),
            rx.toast.success(said),
        ]

    def _forget_import(self) -> None:
        self.import_problems, self.imported_bot_id, self.imported_name = [], 0, ""
        self.imported_to_fill_in, self.imported_notes = [], []
