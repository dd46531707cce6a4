"""Activity: the page's filters, one page of conversations, the open conversation, exports.

Everything is computed by `services/activity.py`; this state keeps the filters as typed, turns them
into an `ActivityFilter` (saying next to a field what is wrong with it) and holds view rows.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import reflex as rx

from chatapp.components.chat_view import BubbleView, citation_view, format_time
from chatapp.services.bots import audiences, bots
from chatapp.services.reports import activity, activity_export
from chatapp.services.reports.activity import ActivityFilter, ConversationRow
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState

CHANNEL_LABELS = {
    "widget": "Widget",
    "playground": "Playground",
    "api": "API",
    "openai": "OpenAI API",
    "chatbase": "Chatbase API",
}


@dataclasses.dataclass
class ConversationItem:
    id: int = 0
    time: str = ""  # of the last message
    started: str = ""
    bot_name: str = ""
    channel: str = ""
    question: str = ""
    messages: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    fallbacks: int = 0
    session_id: str = ""
    audience: str = ""  # the audience's label ("" = not known)


@dataclasses.dataclass
class MessageBubble(BubbleView):
    """A message of the open conversation; `id` is set on the bot's answers (to improve them)."""

    id: int = 0


def _item(row: ConversationRow, labels: dict[str, str] | None = None) -> ConversationItem:
    return ConversationItem(
        id=row.id,
        time=format_time(row.last_message_at),
        started=format_time(row.started_at),
        bot_name=row.bot_name,
        channel=CHANNEL_LABELS.get(row.channel, row.channel),
        question=row.first_question or "(no question)",
        messages=row.message_count,
        thumbs_up=row.thumbs_up,
        thumbs_down=row.thumbs_down,
        fallbacks=row.fallbacks,
        session_id=row.session_id,
        audience=(labels or {}).get(row.audience, row.audience),
    )


def parse_day(raw: str) -> tuple[date | None, str]:
    """A date input's value ('' or YYYY-MM-DD) -> (day, error for the field)."""
    if not raw:
        return None, ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return None, "Enter a date like 2026-03-31."


class ActivityState(BotScopeState):
    rows: list[ConversationItem] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    loaded: bool = False

    search: str = ""  # as typed
    applied_search: str = ""  # as last submitted: what the list shows
    bot_filter: str = "current"  # current or all
    channel: str = "all"
    audience: str = "all"  # "all" or an audience key of the current bot
    audience_options: list[list[str]] = []  # [key, label] of the current bot's audiences
    feedback: str = "any"
    unanswered: bool = False
    date_from: str = ""
    date_to: str = ""
    search_error: str = ""
    date_from_error: str = ""
    date_to_error: str = ""

    detail_open: bool = False
    detail: ConversationItem = ConversationItem()
    detail_messages: list[MessageBubble] = []

    @rx.var
    def filtered(self) -> bool:
        return bool(
            self.applied_search
            or self.bot_filter != "current"
            or self.channel != "all"
            or self.audience != "all"
            or self.feedback != "any"
            or self.unanswered
            or self.date_from
            or self.date_to
        )

    @rx.var
    def summary(self) -> str:
        noun = "conversation" if self.total == 1 else "conversations"
        return f"{self.total:,} {noun}"

    # --- loading ------------------------------------------------------------------------------

    def _filters(self) -> ActivityFilter | None:
        """The filters as the service takes them; None (and field errors) when one is wrong."""
        start, self.date_from_error = parse_day(self.date_from)
        end, self.date_to_error = parse_day(self.date_to)
        if start and end and start > end:
            self.date_to_error = "The end date is before the start date."
        if self.date_from_error or self.date_to_error:
            return None
        return ActivityFilter(
            bot_id=None if self.bot_filter == "all" else self.bot_id,
            search=self.applied_search,
            date_from=start,
            date_to=end,
            feedback=self.feedback,
            unanswered=self.unanswered,
            channel="" if self.channel == "all" else self.channel,
            audience="" if self.audience == "all" else self.audience,
        )

    @rx.event
    async def load(self):
        """on_load and after every filter change: the current page of conversations."""
        if not self.bot_id:
            self.rows, self.total, self.loaded = [], 0, True
            return None
        filters = self._filters()
        if filters is None:
            return None
        page, bot_id = self.page, self.bot_id
        done = await calls.as_member(
            self,
            lambda s, a: (
                activity.list_conversations(s, a, filters, page=page),
                audiences.of(bots.get_bot(s, a, bot_id)),
            ),
        )
        if not done.ok:
            return done.toast
        result, defined = done.value
        self.audience_options = [[a["key"], a["label"]] for a in defined]
        labels = {a["key"]: a["label"] for a in defined}
        self.rows = [_item(row, labels) for row in result.rows]
        self.total, self.page, self.pages = result.total, result.page, result.pages
        self.loaded = True
        return None

    def _reload_first_page(self):
        self.page = 1
        return ActivityState.load

    # --- filters ------------------------------------------------------------------------------

    @rx.event
    def set_search(self, value: str):
        self.search = value

    @rx.event
    def apply_search(self, form: dict):
        self.search = str(form.get("search", self.search) or "")
        if len(self.search.strip()) > activity.MAX_SEARCH_CHARS:
            self.search_error = f"Search for at most {activity.MAX_SEARCH_CHARS} characters."
            return None
        self.search_error = ""
        self.applied_search = self.search.strip()
        return self._reload_first_page()

    @rx.event
    def set_bot_filter(self, value: str):
        self.bot_filter = value if value in ("current", "all") else "current"
        return self._reload_first_page()

    @rx.event
    def set_channel(self, value: str):
        self.channel = value
        return self._reload_first_page()

    @rx.event
    def set_audience(self, value: str):
        self.audience = value or "all"
        return self._reload_first_page()

    @rx.event
    def set_feedback(self, value: str):
        self.feedback = value
        return self._reload_first_page()

    @rx.event
    def set_unanswered(self, value: bool):
        self.unanswered = bool(value)
        return self._reload_first_page()

    @rx.event
    def set_date_from(self, value: str):
        self.date_from = value
        return self._reload_first_page()

    @rx.event
    def set_date_to(self, value: str):
        self.date_to = value
        return self._reload_first_page()

    @rx.event
    def clear_filters(self):
        self.search = self.applied_search = self.search_error = ""
        self.bot_filter, self.channel, self.feedback = "current", "all", "any"
        self.audience = "all"
        self.unanswered, self.date_from, self.date_to = False, "", ""
        return self._reload_first_page()

    # --- paging -------------------------------------------------------------------------------

    @rx.event
    def next_page(self):
        if self.page < self.pages:
            self.page += 1
        return ActivityState.load

    @rx.event
    def previous_page(self):
        if self.page > 1:
            self.page -= 1
        return ActivityState.load

    # --- one conversation ---------------------------------------------------------------------

    @rx.event
    async def open_conversation(self, conversation_id: int):
        done = await calls.as_member(
            self, lambda s, a: activity.get_conversation(s, a, conversation_id)
        )
        if not done.ok:
            return done.toast
        found = done.value
        labels = {key: label for key, label in self.audience_options}
        self.detail = _item(found.row, labels)
        self.detail_messages = [
            MessageBubble(
                id=m.id if m.role == "assistant" else 0,
                role=m.role,
                content=m.content,
                time=format_time(m.created_at),
                citations=[citation_view(c) for c in m.citations],
                feedback=m.feedback,
                fell_back=m.fell_back,
                model=m.model,
                routed_bot=m.routed_bot,
            )
            for m in found.messages
        ]
        self.detail_open = True
        return None

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = value
        if not value:
            self.detail_messages = []

    # --- export -------------------------------------------------------------------------------

    @rx.event
    async def export(self, fmt: str):
        """Download the filtered conversations (newest first, capped) as CSV or JSON."""
        filters = self._filters()
        if filters is None:
            return rx.toast.error("Fix the filters first.")
        done = await calls.as_member(
            self, lambda s, a: activity_export.export_conversations(s, a, filters, fmt)
        )
        if not done.ok:
            return done.toast
        result = done.value
        download = rx.download(
            data=result.content.encode("utf-8"),
            filename=result.filename,
            mime_type=result.mime_type,
        )
        if result.truncated:
            return [
                download,
                rx.toast.warning(
                    f"Exported the newest {result.conversations:,} conversations "
                    f"({result.messages:,} messages, the limit). Narrow the filters for older ones."
                ),
            ]
        return download
