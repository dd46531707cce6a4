"""Editing a pasted text or a Q&A pair in place: same source, same id, its chunks replaced.

A saved edit queues the source again; the worker re-indexes it and swaps its chunks in one
transaction, so until then (or if that fails) the bot keeps answering from the old chunks.
`edit_source` is the API's partial update: fields left out keep their value, and a field of the
other kind (a question for a pasted text) is refused in words rather than ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from chatapp.core.errors import ValidationFailed
from chatapp.core.schemas import parse
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.knowledge import schemas, sources
from chatapp.services.knowledge.sources import SourceInputInvalid
from chatapp.services.models import Source

EDITABLE_KINDS = ("text", "qa")
NOT_EDITABLE = (
    "Only pasted texts and Q&A pairs can be edited; a file, page or website is changed at its "
    "origin and re-trained."
)


@dataclass(frozen=True)
class EditableSource:
    """What the edit form of a pasted text or a Q&A pair starts with."""

    id: int
    kind: str  # text or qa
    title: str = ""
    text: str = ""
    question: str = ""
    answer: str = ""


def editable(session: Session, actor: Actor, source_id: int) -> EditableSource:
    """The current fields of a source the actor may edit in place."""
    actor.require(Permission.MANAGE_BOTS)
    source = get_scoped(session, actor, Source, source_id, "Source")
    if source.kind not in EDITABLE_KINDS:
        raise ValidationFailed(NOT_EDITABLE)
    meta = source.meta or {}
    return EditableSource(
        id=source.id,
        kind=source.kind,
        title=source.title,
        text=str(meta.get("text", "")),
        question=str(meta.get("question", "")),
        answer=str(meta.get("answer", "")),
    )


def update_text(session: Session, actor: Actor, source_id: int, *, title: str, text: str) -> Source:
    """Change a pasted text (and its title) and queue it for training again."""
    source = sources.editable_source(session, actor, source_id, "text")
    checked = parse(schemas.TextIn, SourceInputInvalid, title=title, text=text)
    title, text = checked.title, checked.text
    return sources.requeue_edited(
        session,
        actor,
        source,
        title=sources.title_of(title, text[:60]),
        meta={"text": text},
        chars=len(text),
        size=len(text.encode("utf-8")),
    )


def edit_source(
    session: Session,
    actor: Actor,
    source_id: int,
    *,
    title: str | None = None,
    text: str | None = None,
    question: str | None = None,
    answer: str | None = None,
) -> Source:
    """A partial update of a pasted text (title, text) or a Q&A pair (question, answer)."""
    actor.require(Permission.MANAGE_BOTS)
    source = get_scoped(session, actor, Source, source_id, "Source")
    meta = source.meta or {}
    if source.kind == "text":
        if question is not None or answer is not None:
            raise ValidationFailed("A pasted text has a title and a text, not a question.")
        return update_text(
            session,
            actor,
            source_id,
            title=source.title if title is None else title,
            text=str(meta.get("text", "")) if text is None else text,
        )
    if source.kind == "qa":
        if title is not None or text is not None:
            raise ValidationFailed("A Q&A pair has a question and an answer, not a title or text.")
        return sources.update_qa(
            session,
            actor,
            source_id,
            question=str(meta.get("question", "")) if question is None else question,
            answer=str(meta.get("answer", "")) if answer is None else answer,
        )
    raise ValidationFailed(NOT_EDITABLE)
