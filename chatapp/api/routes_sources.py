"""Knowledge API: add sources of every kind, poll their status, read what they taught (text and
chunks), edit texts and Q&A pairs, re-train, delete, search, and improve a bot's answer (saved as
a Q&A pair).

Scripts use a workspace API token (`cat_...`) or a login token; both act through the same services
as the dashboard. Adding or editing returns at once with status `queued`; poll
`GET .../sources/{id}`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.core.db import session_scope
from chatapp.services.accounts.tenancy import Actor, Permission
from chatapp.services.bots import bots
from chatapp.services.knowledge import source_edits, source_text, sources
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.knowledge.schemas import (
    ChunkOut,
    ImproveIn,
    QaIn,
    SearchIn,
    SourceContentOut,
    SourceOut,
    SourcePatchIn,
    StorageOut,
    TextIn,
    UrlIn,
    WebsiteIn,
    upload_limit_bytes,
)
from chatapp.services.reports import improve_answer

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}", tags=["knowledge"])


class PassageOut(BaseModel):
    chunk_id: str
    source_id: int
    source_kind: str
    title: str
    heading: str
    page: int | None
    url: str
    file_name: str
    text: str
    score: float
    dense_score: float
    lexical_score: float


class SearchOut(BaseModel):
    confident: bool
    passages: list[PassageOut]


def _out(source) -> SourceOut:
    return SourceOut.model_validate(source, from_attributes=True)


@router.get("/bots/{bot_id}/sources", response_model=list[SourceOut])
def list_sources(
    bot_id: Id,
    include_pages: bool = False,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return [
        _out(s) for s in sources.list_sources(session, actor, bot_id, include_pages=include_pages)
    ]


@router.post("/bots/{bot_id}/sources/text", response_model=SourceOut, status_code=202)
def add_text(
    bot_id: Id,
    body: TextIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return _out(sources.add_text(session, actor, bot_id, title=body.title, text=body.text))


@router.post("/bots/{bot_id}/sources/qa", response_model=SourceOut, status_code=202)
def add_qa(
    bot_id: Id,
    body: QaIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return _out(sources.add_qa(session, actor, bot_id, question=body.question, answer=body.answer))


@router.post("/bots/{bot_id}/sources/file", response_model=SourceOut, status_code=202)
async def add_file(
    bot_id: Id,
    file: UploadFile = File(...),
    actor: Actor = Depends(current_actor),
):
    # One byte over the limit is enough for the service's upload check to refuse it.
    data = await file.read(upload_limit_bytes() + 1)
    # Checking, storing and hashing the file and its rows is blocking work: off the event loop.
    return await run_in_threadpool(_store_file, actor, bot_id, file.filename or "", data)


def _store_file(actor: Actor, bot_id: int, filename: str, data: bytes) -> SourceOut:
    with session_scope() as session:
        return _out(sources.add_file(session, actor, bot_id, filename=filename, data=data))


@router.post("/bots/{bot_id}/sources/url", response_model=SourceOut, status_code=202)
def add_url(
    bot_id: Id,
    body: UrlIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return _out(sources.add_url(session, actor, bot_id, url=body.url))


@router.post("/bots/{bot_id}/sources/website", response_model=SourceOut, status_code=202)
def add_website(
    bot_id: Id,
    body: WebsiteIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    return _out(
        sources.add_website(
            session,
            actor,
            bot_id,
            url=body.url,
            use_sitemap=body.use_sitemap,
            max_pages=body.max_pages,
            max_depth=body.max_depth,
            include=body.include,
            exclude=body.exclude,
        )
    )


@router.get("/sources/{source_id}", response_model=SourceOut)
def get_source(
    source_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    return _out(sources.get_source(session, actor, source_id))


@router.patch("/sources/{source_id}", response_model=SourceOut, status_code=202)
def edit_source(
    source_id: Id,
    body: SourcePatchIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Edit a pasted text (title, text) or a Q&A pair (question, answer) in place; it is
    re-trained, and its old chunks answer until the new ones replace them."""
    fields = body.model_dump(exclude_unset=True)
    return _out(source_edits.edit_source(session, actor, source_id, **fields))


@router.get("/sources/{source_id}/content", response_model=SourceContentOut)
def source_content(
    source_id: Id,
    chunk_offset: int = Query(0, ge=0, le=2**31 - 1),
    chunk_limit: int = Query(source_text.CHUNK_PAGE, ge=1, le=source_text.MAX_CHUNK_PAGE),
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """What the source taught the bot: its text and one page of its numbered chunks."""
    read = source_text.source_text(
        session, actor, source_id, chunk_offset=chunk_offset, chunk_limit=chunk_limit
    )
    return SourceContentOut(
        **{k: v for k, v in read.__dict__.items() if k not in ("chunks", "notes", "chunk_note")},
        chunks=[ChunkOut(**chunk.__dict__) for chunk in read.chunks],
        notes=[*read.notes, *([read.chunk_note] if read.chunk_note else [])],
    )


@router.post("/messages/{message_id}/improve", response_model=SourceOut, status_code=202)
def improve(
    message_id: Id,
    body: ImproveIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Save the right answer to a bot message's question as a Q&A pair (the one written from
    this message before is updated), so the next visitor who asks gets it."""
    return _out(
        improve_answer.improve_answer(
            session, actor, message_id, answer=body.answer, question=body.question
        )
    )


@router.post("/sources/{source_id}/retrain", response_model=SourceOut, status_code=202)
def retrain(
    source_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
):
    return _out(sources.retrain(session, actor, source_id))


@router.delete("/sources/{source_id}", status_code=204)
def delete_source(
    source_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION
) -> None:
    sources.delete_source(session, actor, source_id)


@router.get("/bots/{bot_id}/storage", response_model=StorageOut)
def storage(bot_id: Id, actor: Actor = Depends(current_actor), session: Session = REQUEST_SESSION):
    use = sources.storage_use(session, actor, bot_id)
    return StorageOut(
        bytes_used=use.bytes_used,
        chars_used=use.chars_used,
        bytes_limit=use.bytes_limit,
        percent=use.percent,
    )


@router.post("/bots/{bot_id}/search", response_model=SearchOut)
def search(
    bot_id: Id,
    body: SearchIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """What the bot would retrieve for a question (for testing knowledge)."""
    actor.require(Permission.READ)
    bot = bots.get_bot(session, actor, bot_id)
    result = retrieve(
        session, workspace_id=actor.workspace_id, bot_id=bot.id, query=body.query, limit=body.limit
    )
    return SearchOut(
        confident=result.confident,
        passages=[PassageOut(**p.__dict__) for p in result.passages],
    )
