"""Knowledge API: add sources of every kind, poll their status, re-train, delete, search.

Scripts use a workspace API token (`cat_...`) or a login token; both act through the same services
as the dashboard. Adding returns at once with status `queued`; poll `GET .../sources/{id}`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api.deps import REQUEST_SESSION, Id, current_actor
from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission
from chatapp.services.bots import crud as bots
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.retrieval import retrieve

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}", tags=["knowledge"])


class SourceOut(BaseModel):
    id: int
    bot_id: int
    parent_id: int | None
    kind: str
    title: str
    url: str
    status: str
    progress: float
    error: str
    size_bytes: int
    char_count: int
    chunk_count: int
    created_at: datetime
    updated_at: datetime
    trained_at: datetime | None


class TextIn(BaseModel):
    title: str = Field(default="", max_length=300)
    text: str = Field(max_length=1_000_000)


class QaIn(BaseModel):
    question: str = Field(max_length=5_000)
    answer: str = Field(max_length=50_000)


class UrlIn(BaseModel):
    url: str = Field(max_length=2048)


class WebsiteIn(BaseModel):
    url: str = Field(max_length=2048)
    use_sitemap: bool = False
    max_pages: int | None = Field(default=None, ge=1, le=1000)
    max_depth: int | None = Field(default=None, ge=0, le=10)
    include: list[str] = Field(default_factory=list, max_length=20)
    exclude: list[str] = Field(default_factory=list, max_length=20)


class StorageOut(BaseModel):
    bytes_used: int
    chars_used: int
    bytes_limit: int
    percent: int


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    limit: int = Field(default=5, ge=1, le=20)


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
    limit = int(get_settings().max_upload_mb * 1024 * 1024)
    data = await file.read(limit + 1)
    if len(data) > limit:
        limit_mb = get_settings().max_upload_mb
        raise ValidationFailed(
            f"{file.filename} is larger than the {limit_mb:g} MB limit per file."
        )
    # Storing and hashing the file and its database rows is blocking work: off the event loop.
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
