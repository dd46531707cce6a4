"""Knowledge API: add sources of every kind, poll their status, re-train, delete, search.

Scripts use a workspace API token (`cat_...`) or a login token; both act through the same services
as the dashboard. Adding returns at once with status `queued`; poll `GET .../sources/{id}`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.core.db import session_scope
from chatapp.services.accounts.tenancy import Actor, Permission
from chatapp.services.bots import bots
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.knowledge.schemas import (
    QaIn,
    SearchIn,
    SourceOut,
    StorageOut,
    TextIn,
    UrlIn,
    WebsiteIn,
    upload_limit_bytes,
)

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
