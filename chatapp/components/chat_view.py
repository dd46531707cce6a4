"""Chat bubbles with their citations, shared by the Playground and the Activity conversation view.

The view data (`BubbleView`, `CitationView`) lives here beside its rendering, so both pages show a
message, its time, its feedback, whether it fell back and the passages it cites the same way.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from chatapp.services.chat.compose.answerability import STRENGTH_LABELS

TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
ROLE_LABELS = {"user": "Visitor", "assistant": "Bot", "agent": "Agent", "system": "System"}


@dataclasses.dataclass
class CitationView:
    n: int = 0
    title: str = ""
    snippet: str = ""
    strength: str = ""  # the owner's words for the match, e.g. "strong match"; never a number
    url: str = ""


@dataclasses.dataclass
class BubbleView:
    role: str = "assistant"  # user, assistant, agent, system
    content: str = ""
    time: str = ""
    citations: list[CitationView] = dataclasses.field(default_factory=list)
    feedback: int = 0  # -1, 0, 1
    fell_back: bool = False
    error: str = ""
    model: str = ""
    routed_bot: str = ""  # a router bot's answer: the bot that answered


def format_time(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def citation_view(raw: dict[str, Any]) -> CitationView:
    """A citation as the chat stores it (`sources` event, Message.citations) -> view data."""
    return CitationView(
        n=int(raw.get("n") or 0),
        title=str(raw.get("title") or "Untitled"),
        snippet=str(raw.get("snippet") or ""),
        strength=STRENGTH_LABELS.get(str(raw.get("strength") or ""), ""),
        url=str(raw.get("url") or ""),
    )


def citation_item(citation: CitationView) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.badge("[" + citation.n.to_string() + "]", variant="soft", size="1"),
            rx.cond(
                citation.url != "",
                rx.link(citation.title, href=citation.url, is_external=True, size="2"),
                rx.text(citation.title, size="2", weight="medium"),
            ),
            rx.spacer(),
            rx.cond(
                citation.strength != "",
                rx.badge(citation.strength, variant="outline", size="1", class_name="strength"),
            ),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.text(citation.snippet, size="1", color_scheme="gray"),
        class_name="citation",
        width="100%",
        padding_y="0.25em",
    )


def citation_list(citations) -> rx.Component:
    return rx.vstack(
        rx.text("Sources", size="1", weight="bold", color_scheme="gray"),
        rx.foreach(citations, citation_item),
        spacing="1",
        width="100%",
        border_top=f"1px solid {rx.color('gray', 6)}",
        padding_top="0.4em",
        margin_top="0.4em",
    )


def _badges(message: BubbleView) -> rx.Component:
    return rx.fragment(
        rx.cond(
            message.fell_back,
            rx.badge("no answer found", color_scheme="orange", high_contrast=True, size="1"),
        ),
        rx.cond(
            message.routed_bot != "",
            rx.badge("answered by ", message.routed_bot, size="1", class_name="routed-bot"),
        ),
        rx.cond(
            message.feedback == 1,
            rx.badge(rx.icon("thumbs-up", size=12), "helpful", color_scheme="green", size="1"),
        ),
        rx.cond(
            message.feedback == -1,
            rx.badge(rx.icon("thumbs-down", size=12), "not helpful", color_scheme="red", size="1"),
        ),
    )


def bubble(message: BubbleView) -> rx.Component:
    """One message: who, when, the text, its badges and the passages it cites."""
    is_user = message.role == "user"
    return rx.box(
        rx.hstack(
            rx.text(
                rx.match(
                    message.role,
                    *[(role, label) for role, label in ROLE_LABELS.items()],
                    message.role,
                ),
                size="1",
                weight="bold",
            ),
            rx.cond(
                message.time != "",
                rx.text(message.time, size="1", color_scheme="gray", class_name="message-time"),
            ),
            _badges(message),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(message.content, size="2", white_space="pre-wrap", class_name="message-text"),
        rx.cond(
            message.error != "",
            rx.text(message.error, size="2", color_scheme="red", class_name="message-error"),
        ),
        rx.cond(message.citations.length() > 0, citation_list(message.citations)),
        class_name=rx.cond(is_user, "bubble bubble-user", "bubble bubble-assistant"),
        align_self=rx.cond(is_user, "flex-end", "flex-start"),
        background=rx.cond(is_user, rx.color("accent", 3), rx.color("gray", 3)),
        border_radius="0.75em",
        padding="0.6em 0.8em",
        max_width=["100%", "100%", "85%"],
        overflow_wrap="anywhere",
    )


# Keeps a scroll box at its newest message while messages arrive and grow (an answer streaming
# in), unless the reader scrolled up: then their view stays put until they scroll back down.
# Installed once per element when it mounts; the box's own scroll events say where the reader is.
_FOLLOW_NEWEST_JS = """
(() => {
  const box = document.getElementById(%(id)s);
  if (!box || box.dataset.followNewest) return;
  box.dataset.followNewest = "on";
  let following = true;
  const atBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  box.addEventListener("scroll", () => { following = atBottom(); }, { passive: true });
  new MutationObserver(() => { if (following) box.scrollTop = box.scrollHeight; })
    .observe(box, { childList: true, subtree: true, characterData: true });
})()
"""


def follow_newest(element_id: str) -> rx.event.EventSpec:
    """An `on_mount` event: the element with this id follows its newest message (see above)."""
    return rx.call_script(_FOLLOW_NEWEST_JS % {"id": repr(element_id)})


def message_list(messages, *extra: rx.Component, live: bool = False, **props) -> rx.Component:
    """The bubbles of a conversation, oldest first, then `extra` (e.g. an answer streaming in).

    `live`: the bubbles are a polite log, so a screen reader reads each message as it is added;
    `extra` stays outside it (an answer is read once, when it is complete, not token by token).
    """
    bubbles = rx.foreach(messages, bubble)
    if live:
        bubbles = rx.el.div(
            bubbles,
            role="log",
            aria_live="polite",
            aria_label="Conversation",
            class_name="message-log",
            style={"display": "flex", "flex_direction": "column", "gap": "0.6em"},
        )
    return rx.flex(
        bubbles,
        *extra,
        direction="column",
        gap="0.6em",
        width="100%",
        **props,
    )
