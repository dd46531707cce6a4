"""The shapes of a bot's knowledge where the API, the services and the dashboard meet.

Each limit is defined here once (or is a setting read here) and refused in the same words by the
API's request models, by `services.knowledge.sources` (which validates its arguments with these
schemas) and by the Sources page, whose hints read the same constants. Uploads have one check,
`check_upload`, used by the service (and so by the API route and the dashboard); ingestion
re-checks the size limit with `check_stored_upload`, the part of it that can change later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chatapp.core.config import get_settings
from chatapp.core.errors import FieldInvalid, ValidationFailed
from chatapp.core.schemas import limited_text
from chatapp.services.knowledge.ingest import file_checks
from chatapp.services.knowledge.ingest.extract import detect_kind
from chatapp.services.knowledge.ingest.urlguard import MAX_URL_LENGTH, URL_TOO_LONG

MB = 1024 * 1024
MAX_TITLE = 300
MAX_QUESTION = 1_000
MAX_ANSWER = 10_000
MAX_PATTERNS = 20
MAX_PATTERN_CHARS = 200  # longer include/exclude patterns are cut to this
MIN_PAGES, MAX_PAGES = 1, 1000
MIN_DEPTH, MAX_DEPTH = 0, 10
MAX_QUERY = 2000
MAX_RESULTS = 20
MAX_FILENAME = 120


def max_text_chars() -> int:
    return get_settings().max_text_chars


Title = limited_text(MAX_TITLE, "Keep the title under {limit:,} characters.")
Text = limited_text(
    max_text_chars,
    "The text is {length:,} characters long; the limit is {limit:,}. Split it in parts.",
    blank="Paste some text first.",
)
BOTH = "Write both the question and its answer."
Question = limited_text(MAX_QUESTION, "Keep the question under {limit:,} characters.", blank=BOTH)
Answer = limited_text(MAX_ANSWER, "Keep the answer under {limit:,} characters.", blank=BOTH)
Url = limited_text(MAX_URL_LENGTH, URL_TOO_LONG)


class TextIn(BaseModel):
    title: Title = ""
    text: Text


class QaIn(BaseModel):
    question: Question
    answer: Answer


class UrlIn(BaseModel):
    url: Url


class WebsiteIn(BaseModel):
    url: Url
    use_sitemap: bool = False
    max_pages: int | None = Field(
        default=None, json_schema_extra={"minimum": MIN_PAGES, "maximum": MAX_PAGES}
    )
    max_depth: int | None = Field(
        default=None, json_schema_extra={"minimum": MIN_DEPTH, "maximum": MAX_DEPTH}
    )
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("max_pages")
    @classmethod
    def _pages(cls, value: int | None) -> int | None:
        if value is not None and not MIN_PAGES <= value <= MAX_PAGES:
            raise ValueError(f"Pages to crawl must be between {MIN_PAGES} and {MAX_PAGES:,}.")
        return value

    @field_validator("max_depth")
    @classmethod
    def _depth(cls, value: int | None) -> int | None:
        if value is not None and not MIN_DEPTH <= value <= MAX_DEPTH:
            raise ValueError(f"Crawl depth must be between {MIN_DEPTH} and {MAX_DEPTH}.")
        return value

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _patterns(cls, values: object, info) -> object:
        if values is None:
            return []
        if not isinstance(values, list):
            return values  # not a list: pydantic refuses it in words ("a valid list")
        cleaned = [
            v.strip()[:MAX_PATTERN_CHARS] if isinstance(v, str) else v
            for v in values
            if not isinstance(v, str) or v.strip()
        ]
        if len(cleaned) > MAX_PATTERNS:
            raise ValueError(f"Use at most {MAX_PATTERNS} {info.field_name} patterns.")
        return cleaned


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY)
    limit: int = Field(default=5, ge=1, le=MAX_RESULTS)


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


class SourcePatchIn(BaseModel):
    """A pasted text's title and text, or a Q&A pair's question and answer; what is left out
    keeps its value."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    text: Text | None = None
    question: Question | None = None
    answer: Answer | None = None


class ImproveIn(BaseModel):
    """The right answer to a bot message's question; the question defaults to the visitor's."""

    model_config = ConfigDict(extra="forbid")

    answer: Answer
    question: Question | None = None


class ChunkOut(BaseModel):
    index: int = Field(description="1-based position in the source, in reading order")
    text: str
    heading: str
    page: int | None


class SourceContentOut(BaseModel):
    source_id: int
    kind: str
    title: str
    status: str
    text: str = Field(description="What the bot learned; its start only when text_truncated")
    text_truncated: bool
    char_count: int
    chunk_count: int = Field(description="Every chunk of the source, however many are listed")
    chunk_offset: int
    chunks: list[ChunkOut]
    notes: list[str] = Field(description="Sentences for people: what is left out, and why")


class StorageOut(BaseModel):
    bytes_used: int
    chars_used: int
    bytes_limit: int
    percent: int


# --- uploads ---------------------------------------------------------------------------------


def upload_limit_bytes() -> int:
    """The largest file accepted (the MAX_UPLOAD_MB setting); read one byte more to notice."""
    return int(get_settings().max_upload_mb * MB)


def upload_limit_label() -> str:
    return f"{get_settings().max_upload_mb:g} MB"


def file_too_large_message(filename: str) -> str:
    """The one refusal for a file over the per-file limit (API, dashboard, service, ingestion)."""
    return f"{filename} is larger than the {upload_limit_label()} limit per file."


def safe_filename(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", Path(filename or "upload").name)
    return name[:MAX_FILENAME] or "upload"


@dataclass(frozen=True)
class CheckedUpload:
    filename: str  # safe to store and show
    kind: str  # pdf, docx, html, md or txt, from the bytes


def check_upload(filename: str, data: bytes) -> CheckedUpload:
    """The upload check, in the order a person would fix things: a name without hidden
    characters, not empty, within the size limit, a supported type (by content) that agrees
    with the name, and a document that opens (no password, not cut short, no zip bomb)."""
    try:
        file_checks.check_name(filename)
    except ValidationFailed as error:
        raise FieldInvalid(error.message, "file") from error
    name = safe_filename(filename)
    check_stored_upload(name, data)
    kind = detect_kind(data, name)
    try:
        file_checks.check_name_agrees(name, kind)
        file_checks.check_opens(kind, data, max_bytes=upload_limit_bytes())
    except ValidationFailed as error:
        raise FieldInvalid(error.message, "file") from error
    return CheckedUpload(filename=name, kind=kind)


def check_stored_upload(filename: str, data: bytes) -> None:
    """Ingestion's check of a file accepted at upload: not empty and within the limit (which may
    have shrunk since). The rest was judged at upload, and the extractor refuses what it cannot
    read; a file stored before a newer upload rule keeps training as it did."""
    if not data:
        raise FieldInvalid(f"{filename} is empty.", "file")
    if len(data) > upload_limit_bytes():
        raise FieldInvalid(file_too_large_message(filename), "file")
