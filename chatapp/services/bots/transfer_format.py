"""The bot file: one JSON document that carries a bot to another workspace or installation.

Why a strict format: the file comes from outside (another installation, a download edited by
hand, or someone hostile), so it is read with the same care as an upload. Every object refuses
fields it does not know (a misspelt field must not be dropped silently), every text has the
limit the dashboard and the API apply, and every problem is said in words with where it is
("source 3 > passages: ..."). `read_bot_file` checks the size, the encoding, the JSON, the format
and version, and the shape; `bot_import` then checks what needs more than a shape (file contents,
actions, quotas) before anything is written.

Layout (version 1): `format`, `version`, `exported_at`, `app_version`, `size_bytes` (the file's own
size), `contents` (counts), `provider` (where answers came from: not applied on import), `bot`
(its settings, audiences included, as `BotCreate` reads them), `avatar`, `sources` (each with the
passages it was indexed as), `actions` (secrets blanked), `to_fill_in` (what those blanks were),
`left_out` (what the export could not include).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatapp.core.config import get_settings
from chatapp.core.errors import TooLarge, ValidationFailed
from chatapp.core.schemas import message_of
from chatapp.services.knowledge.schemas import (
    MAX_FILENAME,
    MAX_PAGES,
    MB,
    Answer,
    Question,
    Text,
    Title,
    Url,
)
from chatapp.services.models import BotCreate

FORMAT = "chatapp.bot"
VERSION = 1
MAX_PASSAGE_CHARS = 20_000  # the chunker makes ~200-token passages; this leaves room for others
MAX_PASSAGES_PER_SOURCE = 5_000
MAX_SOURCES = 5_000
MAX_ACTIONS = 50
MAX_AVATAR_BASE64 = 700_000  # a 500 KB picture as base64
MAX_PROBLEMS = 8  # listed at once; the rest are counted
MAX_DEPTH = 40  # JSON nesting: the format needs about 10
SOURCE_KINDS = ("text", "qa", "file", "url", "website")
SINGULAR = {
    "sources": "source",
    "passages": "passage",
    "pages": "page",
    "actions": "action",
    "to_fill_in": "to_fill_in item",
    "starter_questions": "starter question",
    "audiences": "audience",
    "allowed_domains": "allowed domain",
}


class BotFileInvalid(ValidationFailed):
    """A bot file that cannot be imported: `problems` lists each one in words."""

    def __init__(self, problems: list[str]):
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        summary = "This bot file cannot be imported: " + shown[0]
        if len(problems) > 1:
            summary += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        super().__init__(summary)
        self.problems = shown + ([f"... and {more} more."] if more > 0 else [])


def limit_bytes() -> int:
    return int(get_settings().bot_transfer_max_mb * MB)


def limit_label() -> str:
    return f"{get_settings().bot_transfer_max_mb:g} MB"


def too_large(size: int | None = None) -> TooLarge:
    """The refusal over BOT_TRANSFER_MAX_MB (`size` when known: a capped read does not know it)."""
    shown = f" ({size / MB:.1f} MB)" if size else ""
    return TooLarge(
        f"The bot file{shown} is larger than this installation takes: at most {limit_label()} "
        "(BOT_TRANSFER_MAX_MB)."
    )


def _web_address(value: str) -> str:
    """An http(s) address, or "": what a citation may link to. Its host is not resolved here:
    nothing is fetched on import (a re-train fetches through the SSRF guard)."""
    if not value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Use a web address starting with https:// or http://.")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Passage(Strict):
    """One indexed passage, as the chat cites it."""

    text: str = Field(min_length=1, max_length=MAX_PASSAGE_CHARS)
    title: str = Field(default="", max_length=300)
    heading: str = Field(default="", max_length=300)
    page: int | None = Field(default=None, ge=1, le=1_000_000)
    url: str = Field(default="", max_length=2048)
    token_count: int = Field(default=0, ge=0, le=1_000_000)

    _url = field_validator("url")(_web_address)


class Indexed(Strict):
    """What a trained source carries, so the imported bot answers at once (nothing re-fetched).
    No passages: the source is trained again after the import."""

    passages: list[Passage] = Field(default_factory=list, max_length=MAX_PASSAGES_PER_SOURCE)
    char_count: int = Field(default=0, ge=0, le=1_000_000_000)
    content_hash: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")


class TextSource(Indexed):
    kind: Literal["text"]
    title: Title = ""
    text: Text


class QaSource(Indexed):
    kind: Literal["qa"]
    question: Question
    answer: Answer


class FileSource(Indexed):
    kind: Literal["file"]
    title: Title = ""
    filename: str = Field(min_length=1, max_length=MAX_FILENAME)
    data_base64: str = Field(min_length=1)


class UrlSource(Indexed):
    kind: Literal["url"]
    title: Title = ""
    url: Url
    size_bytes: int = Field(default=0, ge=0, le=1_000_000_000)  # the page as fetched

    _url = field_validator("url")(_web_address)


class PageSource(Indexed):
    """A page of a website source."""

    title: Title = ""
    url: Url
    size_bytes: int = Field(default=0, ge=0, le=1_000_000_000)

    _url = field_validator("url")(_web_address)


WEBSITE_SETTINGS = ("use_sitemap", "max_pages", "max_depth", "include", "exclude")


class WebsiteSource(Strict):
    kind: Literal["website"]
    title: Title = ""
    url: Url
    settings: dict[str, Any] = Field(default_factory=dict)
    pages: list[PageSource] = Field(default_factory=list, max_length=MAX_PAGES)

    _url = field_validator("url")(_web_address)

    @field_validator("settings")
    @classmethod
    def _known_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(WEBSITE_SETTINGS))
        if unknown:
            raise ValueError(
                f"unknown setting {', '.join(map(repr, unknown))}; "
                f"a website has {', '.join(WEBSITE_SETTINGS)}"
            )
        return value


SourceEntry = Annotated[
    TextSource | QaSource | FileSource | UrlSource | WebsiteSource, Field(discriminator="kind")
]


class ActionEntry(Strict):
    kind: str = Field(max_length=30)
    name: str = Field(default="", max_length=80)
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class FillIn(Strict):
    """A value the export left blank (a secret) that the owner must enter after the import."""

    action: str = Field(max_length=80)
    field: str = Field(max_length=200)
    why: str = Field(default="", max_length=200)


class Avatar(Strict):
    data_base64: str = Field(min_length=1, max_length=MAX_AVATAR_BASE64)


class Provider(Strict):
    """Where the bot's answers came from when exported (informational: a workspace's provider
    and its key stay with the workspace)."""

    source: str = Field(default="", max_length=20)
    base_url: str = Field(default="", max_length=500)
    model: str = Field(default="", max_length=100)


class Contents(Strict):
    sources: int = Field(default=0, ge=0)
    pages: int = Field(default=0, ge=0)
    passages: int = Field(default=0, ge=0)
    files: int = Field(default=0, ge=0)
    actions: int = Field(default=0, ge=0)
    audiences: int = Field(default=0, ge=0)


class BotFile(Strict):
    format: Literal["chatapp.bot"]
    version: Literal[1]
    exported_at: str = Field(default="", max_length=40)
    app_version: str = Field(default="", max_length=40)
    size_bytes: int = Field(default=0, ge=0)
    contents: Contents | None = None
    provider: Provider | None = None
    bot: BotCreate
    avatar: Avatar | None = None
    sources: list[SourceEntry] = Field(default_factory=list, max_length=MAX_SOURCES)
    actions: list[ActionEntry] = Field(default_factory=list, max_length=MAX_ACTIONS)
    to_fill_in: list[FillIn] = Field(default_factory=list, max_length=MAX_ACTIONS * 25)
    left_out: list[str] = Field(default_factory=list, max_length=MAX_SOURCES)


# --- reading ---------------------------------------------------------------------------------


def read_bot_file(raw: bytes) -> BotFile:
    """The checked shape of a bot file, or a refusal in words (413 over the size limit)."""
    if len(raw) > limit_bytes():
        raise too_large()  # the caller may have read only this much of it
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BotFileInvalid(["the file is not UTF-8 text: choose the .json file"]) from None
    data = _json(text)
    _check_header(data)
    _check_texts(data, "file", 0)
    try:
        return BotFile.model_validate(data)
    except ValidationError as exc:
        raise BotFileInvalid([describe(e) for e in exc.errors()]) from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BotFileInvalid(
            [f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    except RecursionError:
        raise BotFileInvalid(["the file's JSON is nested too deeply"]) from None
    except ValueError:  # e.g. a number of thousands of digits
        raise BotFileInvalid(["the file's JSON holds a value that cannot be read"]) from None


def _check_header(data: Any) -> None:
    """Format and version first: a wrong file is named as such, not as 40 unknown fields."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BotFileInvalid(
            [
                'this is not a Chatapp bot file (it needs "format": "chatapp.bot"): export '
                "the bot from the Bots page or GET /api/v1/workspaces/{id}/bots/{bot_id}/export"
            ]
        )
    version = data.get("version")
    if version == VERSION:
        return
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise BotFileInvalid(
            [
                f"the file is format version {version}, made by a newer Chatapp; this "
                f"installation reads version {VERSION}: update it, or export with the same version"
            ]
        )
    raise BotFileInvalid([f"unknown format version {version!r}: this installation reads {VERSION}"])


def _check_texts(value: Any, where: str, depth: int) -> None:
    """No NUL (PostgreSQL cannot store it) or lone surrogate (not UTF-8) in any text, and a
    nesting no deeper than the format's."""
    if depth > MAX_DEPTH:
        raise BotFileInvalid([f"{where}: nested too deeply"])
    if isinstance(value, str):
        if "\x00" in value:
            raise BotFileInvalid([f"{where}: text must not contain NUL characters (\\u0000)"])
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BotFileInvalid([f"{where}: the text holds an invalid character"]) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_texts(key, where, depth + 1)
            _check_texts(item, f"{where} > {key}", depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_texts(item, where, depth + 1)


def where_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic location in words: ('sources', 2, 'text', 'title') -> "source 3 > title"."""
    parts: list[str] = []
    tag_next = False  # a source's index is followed by the union's tag: the kind, already shown
    for part in loc:
        if tag_next and part in SOURCE_KINDS:
            tag_next = False
            continue
        tag_next = False
        if isinstance(part, int) and parts:
            tag_next = parts[-1] == "sources"
            parts[-1] = f"{SINGULAR.get(parts[-1], parts[-1])} {part + 1}"
        else:
            parts.append(str(part))
    return " > ".join(parts) or "file"


def describe(error: Any) -> str:
    """One pydantic error as a sentence a person can act on."""
    kind = error.get("type", "")
    where = where_of(error.get("loc", ()))
    if kind == "extra_forbidden":
        return (
            f"{where}: unknown field (the file may come from a newer Chatapp, or was edited: "
            "remove it)"
        )
    if kind == "missing":
        return f"{where}: missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"{where}: a source's kind is one of {', '.join(SOURCE_KINDS)}"
    return f"{where}: {message_of(error)}"
