"""The Sources section: add knowledge to the chosen bot, watch it train, re-train, delete.

Handlers call `services.sources` (writes) and `services.sources_view` (the table) and keep only
what the page shows; editing a source and reading what it taught have their own states under
this one (`source_edit.py`, `source_details.py`). While anything is queued or processing, one
background event polls the services and refreshes the table; it stops when nothing is left to
watch or the page is left.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import PurePosixPath

import reflex as rx

from chatapp.core.config import Settings
from chatapp.services.knowledge import schemas, sources
from chatapp.services.knowledge.ingest import file_checks
from chatapp.services.knowledge.sources_view import SourceEntry, sources_overview
from chatapp.services.models import SourceStatus
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState

ROUTE = "/sources"
FILE_LABELS = {"pdf": "PDF", "docx": "DOCX", "txt": "TXT", "md": "Markdown", "html": "HTML"}
KIND_LABELS = {
    "file": "File",
    "text": "Text",
    "qa": "Q&A",
    "url": "URL",
    "website": "Website",
    "page": "Page",
}
# Hints under the forms' fields: the limits the service (and the API) enforce, from its schemas.
HINTS = {
    "text.title": f"Optional; up to {schemas.MAX_TITLE:,} characters.",
    "qa.question": f"Up to {schemas.MAX_QUESTION:,} characters.",
    "qa.answer": f"Up to {schemas.MAX_ANSWER:,} characters.",
    "website.include": f"One pattern per line, e.g. /help/ (at most {schemas.MAX_PATTERNS}).",
    "website.exclude": f"One pattern per line, e.g. /blog/ (at most {schemas.MAX_PATTERNS}).",
}
POLL_SECONDS = 1.0
MAX_WATCH_SECONDS = 3 * 3600  # a forgotten tab stops polling eventually


@dataclasses.dataclass
class SourceRow:
    """One line of the table, already in words; a website's pages follow it when expanded."""

    id: int
    kind: str
    kind_label: str
    title: str
    detail: str
    status: str
    progress: int
    error: str
    size: str
    chars: str
    chunks: str
    trained: str
    is_page: bool = False
    pages_label: str = ""
    expanded: bool = False
    busy: bool = False


def human_bytes(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _row(entry: SourceEntry, *, is_page: bool = False, expanded: bool = False) -> SourceRow:
    ready = entry.status == SourceStatus.READY
    detail = entry.url if entry.kind in ("url", "website", "page") else ""
    pages_label = ""
    if entry.kind == "website":
        pages_label = _count(len(entry.pages), "page")
        if entry.pages_failed:
            pages_label += f", {entry.pages_failed} failed"
    return SourceRow(
        id=entry.id,
        kind=entry.kind,
        kind_label=FILE_LABELS.get(entry.file_kind) or KIND_LABELS.get(entry.kind, entry.kind),
        title=entry.title or entry.url or "Untitled",
        detail=detail,
        status=entry.status,
        progress=round(entry.progress * 100),
        error=entry.error,
        size=human_bytes(entry.size_bytes) if entry.size_bytes else "-",
        chars=f"{entry.char_count:,}" if entry.char_count or ready else "-",
        chunks=f"{entry.chunk_count:,}" if entry.chunk_count or ready else "-",
        trained=entry.trained_at.strftime("%Y-%m-%d %H:%M UTC") if entry.trained_at else "never",
        is_page=is_page,
        pages_label=pages_label,
        expanded=expanded,
        busy=entry.status in sources.ACTIVE_STATUSES,
    )


def rows_for(entries: list[SourceEntry], expanded: set[int]) -> list[SourceRow]:
    """Top-level sources in order, each expanded website followed by its pages."""
    rows = []
    for entry in entries:
        is_open = entry.id in expanded
        rows.append(_row(entry, expanded=is_open))
        if is_open:
            rows.extend(_row(page, is_page=True) for page in entry.pages)
    return rows


class SourcesState(BotScopeState):
    """Rows of the table, the storage gauge and form errors (keyed "form.field")."""

    rows: list[SourceRow] = []
    storage_label: str = ""
    storage_percent: int = 0
    errors: dict[str, str] = {}
    upload_refusals: list[str] = []
    # The class default is the setting's default (no environment read at import); `load` puts the
    # configured limit in before the upload form is used.
    max_upload_bytes: int = int(Settings.model_fields["max_upload_mb"].default * schemas.MB)
    upload_limit_label: str = f"{Settings.model_fields['max_upload_mb'].default:g} MB"
    text_limit_hint: str = ""
    form_versions: dict[str, int] = {"text": 0, "qa": 0, "url": 0, "website": 0}
    upload_percent: int = 0

    _entries: list[SourceEntry] = []
    _expanded: list[int] = []
    _watcher_beat: float = 0.0  # wall time of the running watcher's last poll (0: none)

    # --- loading and live progress ----------------------------------------------------------

    @rx.event
    async def load(self):
        """on_load after `load_bots`: the table, the limits, and live progress if needed."""
        self.max_upload_bytes = schemas.upload_limit_bytes()
        self.upload_limit_label = schemas.upload_limit_label()
        self.text_limit_hint = f"Up to {schemas.max_text_chars():,} characters."
        self.errors, self.upload_refusals = {}, []
        self._expanded = []
        return await self._refresh_and_watch()

    async def _refresh(self) -> bool:
        """Re-read the table from the services; returns whether anything is still training."""
        if not self.bot_id:
            self.rows, self._entries = [], []
            return False
        bot_id = self.bot_id
        done = await calls.as_member(self, lambda s, a: sources_overview(s, a, bot_id), quiet=True)
        if not done.ok:
            self.rows, self._entries = [], []
            return False
        overview = done.value
        self._entries = overview.entries
        self.rows = rows_for(overview.entries, set(self._expanded))
        use = overview.storage
        self.storage_percent = use.percent
        self.storage_label = (
            f"{human_bytes(use.bytes_used)} of {human_bytes(use.bytes_limit)} used "
            f"({use.percent}%), {use.chars_used:,} characters"
        )
        return overview.active

    async def _refresh_and_watch(self):
        if await self._refresh():
            return SourcesState.watch_progress
        return None

    async def _changed(self, message: str) -> list:
        """After a change: the new table, a watcher if training started, a success toast."""
        watch = await self._refresh_and_watch()
        return [rx.toast.success(message), *([watch] if watch else [])]

    @rx.event(background=True)
    async def watch_progress(self):
        """Poll while sources train; one watcher per browser tab, gone once idle or elsewhere."""
        async with self:
            # A beat older than a few polls is a watcher that died with its worker process.
            if time.time() - self._watcher_beat < 3 * POLL_SECONDS:
                return
            self._watcher_beat = time.time()
        deadline = time.monotonic() + MAX_WATCH_SECONDS
        while True:
            await asyncio.sleep(POLL_SECONDS)
            async with self:  # deciding to stop and saying so happen under one lock
                left = self.router.url.path.rstrip("/") != ROUTE
                if left or time.monotonic() > deadline or not await self._refresh():
                    self._watcher_beat = 0.0
                    return
                self._watcher_beat = time.time()

    @rx.event
    def toggle_pages(self, source_id: int):
        """Show or hide a website's pages under it."""
        expanded = set(self._expanded)
        expanded.symmetric_difference_update({source_id})
        self._expanded = sorted(expanded)
        self.rows = rows_for(self._entries, expanded)

    # --- adding -------------------------------------------------------------------------------

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Files dropped or chosen together: each one is checked and queued on its own."""
        if not files:  # every file was refused in the browser already
            return None
        self.upload_refusals, self.upload_percent = [], 0
        added, bot_id = 0, self.bot_id
        for file in files:
            name = file.name or "upload"
            data = await calls.off_loop(file.file.read, self.max_upload_bytes + 1)
            done = await calls.as_member(
                self,
                lambda s, a, name=name, data=data: sources.add_file(
                    s, a, bot_id, filename=name, data=data
                ),
                quiet=True,
            )
            if done.ok:
                added += 1
            else:
                shown = file_checks.visible_name(name)  # a bidi override would garble the list
                self.upload_refusals.append(_about(shown, done.error.message))
        events = [await self._refresh_and_watch()]
        if added:
            events.append(rx.toast.success(f"{_count(added, 'file')} added: training started."))
        if self.upload_refusals:
            events.append(rx.toast.error(f"{_count(len(self.upload_refusals), 'file')} refused."))
        return [event for event in events if event is not None]

    @rx.event
    def show_upload_progress(self, progress: dict):
        self.upload_percent = round(float(progress.get("progress", 0) or 0) * 100)

    @rx.event
    def refuse_dropped(self, rejected: list[str]):
        """Files the browser refused before sending ("codes:name"): say why as the service would."""
        self.upload_refusals = []
        for item in rejected:
            codes, _, name = str(item).partition(":")
            name = PurePosixPath(name or "file").name
            if "file-too-large" in codes.split(","):
                self.upload_refusals.append(schemas.file_too_large_message(name))
            else:
                self.upload_refusals.append(_about(name, "This file cannot be uploaded."))
        return rx.toast.error(f"{_count(len(rejected), 'file')} refused.")

    @rx.event
    async def add_text(self, form: dict):
        bot_id = self.bot_id
        return await self._add(
            "text",
            lambda session, actor: sources.add_text(
                session,
                actor,
                bot_id,
                title=str(form.get("title", "")),
                text=str(form.get("text", "")),
            ),
            "Text added: training started.",
        )

    @rx.event
    async def add_qa(self, form: dict):
        bot_id = self.bot_id
        return await self._add(
            "qa",
            lambda session, actor: sources.add_qa(
                session,
                actor,
                bot_id,
                question=str(form.get("question", "")),
                answer=str(form.get("answer", "")),
            ),
            "Q&A pair added: training started.",
        )

    @rx.event
    async def add_url(self, form: dict):
        bot_id = self.bot_id
        return await self._add(
            "url",
            lambda session, actor: sources.add_url(
                session, actor, bot_id, url=str(form.get("url", ""))
            ),
            "Page added: reading it now.",
        )

    @rx.event
    async def add_website(self, form: dict):
        numbers = {}
        for field in ("max_pages", "max_depth"):
            raw = str(form.get(field, "")).strip()
            if raw and not raw.isdigit():
                self.errors = {f"website.{field}": "Enter a whole number."}
                return None
            numbers[field] = int(raw) if raw else None
        bot_id = self.bot_id
        return await self._add(
            "website",
            lambda session, actor: sources.add_website(
                session,
                actor,
                bot_id,
                url=str(form.get("url", "")),
                use_sitemap=form.get("use_sitemap") in (True, "on", "true"),
                include=_lines(form.get("include")),
                exclude=_lines(form.get("exclude")),
                **numbers,
            ),
            "Website added: crawling it now.",
        )

    async def _add(self, form_name: str, work, success: str):
        """Run one add service; a refusal goes next to its field, other errors to a toast."""
        self.errors = {}
        main = _MAIN_FIELD[form_name]
        done = await calls.as_member(
            self, work, field=lambda e: f"{form_name}.{getattr(e, 'field', main)}"
        )
        if not done.ok:
            return done.toast
        self.form_versions = {**self.form_versions, form_name: self.form_versions[form_name] + 1}
        return await self._changed(success)

    # --- changing ---------------------------------------------------------------------------

    @rx.event
    async def retrain(self, source_id: int):
        done = await calls.as_member(self, lambda s, a: sources.retrain(s, a, source_id))
        if not done.ok:
            return done.toast
        website = done.value.kind == "website"
        return await self._changed("Re-syncing the website." if website else "Re-training.")

    @rx.event
    async def delete(self, source_id: int):
        done = await calls.as_member(self, lambda s, a: sources.delete_source(s, a, source_id))
        if not done.ok:
            return done.toast
        await self._refresh()
        return rx.toast.success("Source deleted.")


_MAIN_FIELD = {"text": "text", "qa": "answer", "url": "url", "website": "url"}


def _lines(value) -> list[str]:
    return [line for line in str(value or "").splitlines() if line.strip()]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _about(name: str, message: str) -> str:
    """A refusal that names its file once."""
    return message if name in message else f"{name}: {message}"
