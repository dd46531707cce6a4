"""The Inbox: the queue of conversations waiting for a person, one conversation's history and the
agent's actions on it; and the sidebar badge of pending conversations.

Both follow the live bus (`services/live.py`) in background events, so the badge, the queue and
the open conversation change without a reload. Every handler calls one service; refusals (someone
else took it) become a readable notice.
"""

from __future__ import annotations

import dataclasses
import time

import reflex as rx

from chatapp.core.config import get_settings
from chatapp.core.errors import ServiceError
from chatapp.services.bots import bots
from chatapp.services.live import agents, bus, inbox
from chatapp.services.models import ConversationStatus
from chatapp.state import calls
from chatapp.state.auth import AuthState
from chatapp.state.focus import focus_when_shown
from chatapp.state.inbox_rows import (
    ALL_BOTS,
    BotChoice,
    MessageRow,
    QueueRow,
    message_row,
    send_reply,
    waited,
)
from chatapp.state.tabs import tab_is_open

ROUTE = "/inbox"
VIEWS = [("pending", "Pending"), ("mine", "Mine"), ("open", "All open"), ("resolved", "Resolved")]
HANDLER_ROLES = ("owner", "admin", "agent")
FOLLOW_SECONDS = 3600  # a follower ends after an hour; the next page load starts another
# A follower re-checks the member's access on every event and at least this often.
RECHECK_SECONDS = 5.0
ACCESS_LOST = "You no longer have access to this conversation."


def _recheck_every() -> float:
    return min(get_settings().live_keepalive_seconds, RECHECK_SECONDS)


async def _may_follow(state: AuthState, conversation_id: int | None = None) -> bool:
    """Whether the logged-in member may still follow (re-read from the database: a member
    removed, demoted or logged out stops receiving at their follower's next wake-up)."""
    done = await calls.as_member(
        state, lambda s, a: inbox.check_follow(s, a, conversation_id), quiet=True
    )
    return done.ok


class InboxBadgeState(AuthState):
    """The number of pending conversations beside "Inbox" in the sidebar, kept live."""

    pending: int = 0
    _badge_ws: str = ""
    _badge_beat: float = 0.0

    async def _count(self) -> None:
        done = await calls.as_member(self, lambda s, a: inbox.counts(s, a)["pending"], quiet=True)
        self.pending = done.value or 0

    @rx.event(background=True)
    async def follow(self):
        """One follower per tab and workspace: recount on every queue change."""
        keepalive = _recheck_every()
        async with self:
            workspace = self.workspace_id
            alive = time.time() - self._badge_beat < 2 * keepalive
            if not workspace or self.role not in HANDLER_ROLES:
                return
            await self._count()
            if alive and self._badge_ws == workspace:
                return
            self._badge_ws, self._badge_beat = workspace, time.time()
        deadline = time.monotonic() + FOLLOW_SECONDS
        stream = bus.subscribe_workspace(int(workspace), keepalive=keepalive)
        try:
            async for event in stream:
                if not await tab_is_open(self):
                    async with self:  # a backend var: nothing is sent to the closed tab
                        self._badge_beat = 0.0
                    return
                async with self:
                    ended = self.workspace_id != workspace or time.monotonic() > deadline
                    if ended or not await _may_follow(self):
                        self._badge_beat, self.pending = 0.0, 0
                        return
                    self._badge_beat = time.time()
                    if event is not bus.KEEPALIVE:
                        await self._count()
        finally:
            await stream.aclose()


class InboxState(AuthState):
    view: str = "pending"
    bot_choices: list[BotChoice] = [ALL_BOTS]
    bot_choice: str = "all"  # the queue of one bot, or of all the workspace's
    rows: list[QueueRow] = []
    counts: dict[str, int] = {}
    selected_id: int = 0
    status: str = ""
    visitor: str = ""
    agent: str = ""
    bot_name: str = ""
    mine: bool = False
    messages: list[MessageRow] = []
    draft: str = ""
    visitor_typing: bool = False
    notice: str = ""
    announcement: str = ""  # the visitor's latest live message, for screen readers

    _last_event: int = 0
    _thread_gen: int = 0
    _queue_beat: float = 0.0
    _typing_sent: bool = False

    @rx.var
    def can_handle(self) -> bool:
        return self.role in HANDLER_ROLES

    # --- loading ----------------------------------------------------------------------------

    def _chosen_bot(self) -> int | None:
        return None if self.bot_choice == "all" else int(self.bot_choice)

    async def _load_bot_choices(self) -> None:
        """The workspace's bots for the filter; a chosen bot that is gone means all bots."""
        found = (await calls.as_member(self, bots.list_bots, quiet=True)).value or []
        self.bot_choices = [ALL_BOTS] + [BotChoice(str(bot.id), bot.name) for bot in found]
        if not any(choice.value == self.bot_choice for choice in self.bot_choices):
            self.bot_choice = "all"

    async def _refresh_queue(self) -> None:
        view, bot_id = self.view, self._chosen_bot()
        done = await calls.as_member(
            self,
            lambda s, a: (
                inbox.queue(s, a, view=view, bot_id=bot_id),
                inbox.counts(s, a, bot_id=bot_id),
            ),
            quiet=True,
        )
        if not done.ok:
            self.rows, self.notice = [], done.error.message
            return
        items, self.counts = done.value
        now = time.time()
        self.rows = [
            QueueRow(
                id=item.conversation_id,
                visitor=item.visitor,
                bot_name=item.bot_name,
                status=item.status,
                preview=item.preview,
                waiting=waited(item.waiting_seconds)
                if item.status == ConversationStatus.PENDING
                else "",
                agent=item.agent,
                reason=item.handoff_reason,
                asked_at=now - item.waiting_seconds,
            )
            for item in items
        ]

    def _tick_waiting(self) -> None:
        """Waiting times move on between queue changes (on the stream's keep-alives); the rows
        are sent again only when a label changed."""
        now = time.time()
        ticked = [
            dataclasses.replace(row, waiting=waited(int(now - row.asked_at)))
            if row.status == ConversationStatus.PENDING
            else row
            for row in self.rows
        ]
        if any(new.waiting != old.waiting for new, old in zip(ticked, self.rows, strict=True)):
            self.rows = ticked

    async def _load_thread(self) -> None:
        """The open conversation again; raises the service's refusal for the caller to show."""
        selected = self.selected_id
        done = await calls.as_member(
            self, lambda s, a: (inbox.thread(s, a, selected), a.user_id), quiet=True
        )
        if not done.ok:
            raise done.error
        found, user_id = done.value
        self.status, self.visitor, self.agent = found.status, found.visitor, found.agent
        self.bot_name = found.bot_name
        self.mine = (
            found.status == ConversationStatus.ASSIGNED and found.assigned_user_id == user_id
        )
        self.messages = [message_row(m) for m in found.messages]
        self._last_event = found.last_event_id

    @rx.event
    async def open_page(self):
        """on_load: the queue now, then live."""
        self.notice = ""
        await self._load_bot_choices()
        await self._refresh_queue()
        events = [InboxState.follow_queue]
        if self.selected_id:
            try:
                await self._load_thread()
                self._thread_gen += 1
                events.append(InboxState.follow_thread)
            except ServiceError:
                self.selected_id = 0
        return events

    @rx.event
    async def set_view(self, view: str):
        if view in dict(VIEWS):
            self.view = view
            await self._refresh_queue()

    @rx.event
    async def set_bot_choice(self, bot_id: str):
        """Filter the queue and its counts by bot; only the workspace's own bots are offered."""
        if any(choice.value == bot_id for choice in self.bot_choices):
            self.bot_choice = bot_id
            await self._refresh_queue()

    @rx.event
    async def select(self, conversation_id: int):
        """Open a conversation: its history, then its live events."""
        self.selected_id, self.notice, self.draft = conversation_id, "", ""
        self.visitor_typing, self._typing_sent, self.announcement = False, False, ""
        try:
            await self._load_thread()
        except ServiceError as exc:
            self.selected_id, self.notice = 0, exc.message
            return rx.toast.error(exc.message)
        self._thread_gen += 1
        return [InboxState.follow_thread, focus_when_shown("thread-visitor")]

    @rx.event
    def back_to_queue(self):
        """Close the conversation (on a phone the list comes back); focus returns to its entry,
        or to the list's view when the conversation left it."""
        opened = self.selected_id
        self._close_thread("")
        return focus_when_shown(f"inbox-item-{opened}", f"inbox-view-{self.view}")

    # --- actions ----------------------------------------------------------------------------

    async def _act(self, action, then: str) -> rx.event.EventSpec | None:
        """An agent's action; then focus goes to `then` (the pressed button is replaced)."""
        selected = self.selected_id
        done = await calls.as_member(self, lambda s, a: action(s, a, selected))
        if not done.ok:
            self.notice = done.error.message
            await self._reload_after_refusal()
            return done.toast
        self.notice = ""
        await self._load_thread()
        await self._refresh_queue()
        return focus_when_shown(then)

    async def _reload_after_refusal(self) -> None:
        """Show the thread as it is now; one that is gone (deleted, another workspace's, none
        selected) closes instead of raising from inside the error path."""
        try:
            await self._load_thread()
        except ServiceError:
            self.selected_id, self.messages = 0, []
        await self._refresh_queue()

    @rx.event
    async def take(self):
        return await self._act(agents.take, then="inbox-reply")

    @rx.event
    async def release(self):
        return await self._act(agents.release, then="inbox-take")

    @rx.event
    async def resolve(self):
        return await self._act(agents.resolve, then="inbox-take")

    @rx.event
    async def set_draft(self, value: str):
        """Typing: the visitor sees "typing" when the box fills, and not when it empties."""
        self.draft = value
        typing = bool(value.strip())
        if self.mine and typing != self._typing_sent:
            selected = self.selected_id
            done = await calls.as_member(
                self, lambda s, a: agents.typing(s, a, selected, typing), quiet=True
            )
            self._typing_sent = typing if done.ok else False

    @rx.event
    async def send(self, form: dict):
        text = str(form.get("reply", self.draft) or "").strip() or self.draft.strip()
        selected = self.selected_id
        done = await calls.as_member(self, lambda s, a: send_reply(s, a, selected, text))
        if not done.ok:
            self.notice = done.error.message
            return done.toast
        self.draft, self.notice = "", ""
        self._typing_sent = False  # the reply ends the typing indicator on the widget
        self._add(done.value)
        return focus_when_shown("inbox-reply")

    def _close_thread(self, notice: str) -> None:
        """Close the open conversation (access lost): nothing of it stays on the page."""
        self._thread_gen += 1  # its follower, if another one runs, ends at its next wake-up
        self.selected_id, self.messages, self.draft, self.notice = 0, [], "", notice
        self.status = self.visitor = self.agent = self.bot_name = self.announcement = ""
        self.mine = self.visitor_typing = False

    def _add(self, row: MessageRow) -> None:
        if all(existing.id != row.id for existing in self.messages):
            self.messages = [*self.messages, row]

    # --- live ---------------------------------------------------------------------------------

    async def _apply(self, event: bus.LiveEvent) -> None:
        if event.id is not None:
            self._last_event = max(self._last_event, event.id)
        if event.type == "message":
            row = message_row(event.data)
            self._add(row)
            if row.role == "user":
                self.visitor_typing = False
                self.announcement = f"{self.visitor}: {row.content}"
        elif event.type == "typing" and event.data.get("who") == "visitor":
            self.visitor_typing = bool(event.data.get("typing"))
        elif event.type == "status":
            await self._load_thread()

    @rx.event(background=True)
    async def follow_thread(self):
        """The open conversation's events; ends when another one is opened or the page left."""
        async with self:
            generation, conversation_id = self._thread_gen, self.selected_id
            after, workspace = self._last_event, self.workspace_id
        if not conversation_id or not workspace:
            return
        deadline = time.monotonic() + FOLLOW_SECONDS
        stream = bus.subscribe(
            conversation_id, after, workspace_id=int(workspace), keepalive=_recheck_every()
        )
        try:
            async for event in stream:
                if not await tab_is_open(self):
                    return
                async with self:
                    gone = self.router.url.path.rstrip("/") != ROUTE
                    if gone or self._thread_gen != generation or time.monotonic() > deadline:
                        return
                    if not await _may_follow(self, conversation_id):
                        self._close_thread(ACCESS_LOST)
                        return
                    if event is not bus.KEEPALIVE:
                        await self._apply(event)
        finally:
            await stream.aclose()

    @rx.event(background=True)
    async def follow_queue(self):
        """The queue and its counts, refreshed on every change in the workspace."""
        keepalive = _recheck_every()
        async with self:
            workspace = self.workspace_id
            if not workspace or time.time() - self._queue_beat < 2 * keepalive:
                return
            self._queue_beat = time.time()
        deadline = time.monotonic() + FOLLOW_SECONDS
        stream = bus.subscribe_workspace(int(workspace), keepalive=keepalive)
        try:
            async for event in stream:
                if not await tab_is_open(self):
                    async with self:  # a backend var: nothing is sent to the closed tab
                        self._queue_beat = 0.0
                    return
                async with self:
                    gone = self.router.url.path.rstrip("/") != ROUTE
                    ended = self.workspace_id != workspace or time.monotonic() > deadline
                    if gone or ended or not await _may_follow(self):
                        if not gone and not ended:
                            self.rows, self.counts = [], {}
                            self._close_thread(ACCESS_LOST)
                        self._queue_beat = 0.0
                        return
                    self._queue_beat = time.time()
                    if event is bus.KEEPALIVE:
                        self._tick_waiting()
                    else:
                        await self._refresh_queue()
        finally:
            await stream.aclose()
