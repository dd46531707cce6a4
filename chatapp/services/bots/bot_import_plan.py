"""The checks of a bot import, made before anything is written (bot_import.py): each source's
original as adding it would check it (an uploaded file by its content, a website's crawl
settings), the avatar, and the bot's storage limit. Each problem is collected in words, so the
person importing sees them all at once; what passes becomes a `Planned` source ready to write.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chatapp.core.config import get_settings
from chatapp.core.errors import FieldInvalid, ValidationFailed
from chatapp.core.schemas import parse
from chatapp.services.bots import avatars
from chatapp.services.bots.transfer_format import BotFile, Passage
from chatapp.services.knowledge import schemas


@dataclass
class Planned:
    """A source of the file, checked and ready to write (a website with its pages)."""

    kind: str
    title: str
    url: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    size_bytes: int = 0
    char_count: int = 0
    content_hash: str = ""
    passages: list[Passage] = field(default_factory=list)
    file_data: bytes | None = None
    pages: list[Planned] = field(default_factory=list)

    @property
    def trained(self) -> bool:
        return bool(self.passages or self.pages)

    def all_passages(self) -> Iterator[Passage]:
        yield from self.passages
        for page in self.pages:
            yield from page.passages


def avatar_of(bot_file: BotFile, problems: list[str]) -> bytes | None:
    if (bot_file.bot.avatar_url or "").startswith(avatars.URL_PREFIX):
        problems.append("bot > avatar_url: a stored avatar travels as the file's avatar picture")
    if bot_file.avatar is None:
        return None
    try:
        data = base64.b64decode(bot_file.avatar.data_base64, validate=True)
    except binascii.Error:
        problems.append("avatar: the picture is not valid base64")
        return None
    try:
        avatars.shrink(data)
    except ValidationFailed as error:
        problems.append(f"avatar: {error.message}")
        return None
    return data


def _title(value: str, fallback: str) -> str:
    return (re.sub(r"\s+", " ", value or "").strip() or fallback)[: schemas.MAX_TITLE]


def plan(entry: Any, number: int, problems: list[str]) -> Planned:
    """One source of the file, its original checked as adding it would check it."""
    where = f"source {number} ({entry.kind})"
    if entry.kind == "website":
        return _plan_website(entry, where, problems)
    indexed = {"passages": list(entry.passages), "content_hash": entry.content_hash}
    counted = entry.char_count or sum(len(p.text) for p in entry.passages)
    if entry.kind == "text":
        return Planned(
            "text",
            _title(entry.title, entry.text[:60]),
            meta={"text": entry.text},
            size_bytes=len(entry.text.encode()),
            char_count=counted,
            **indexed,
        )
    if entry.kind == "qa":
        pair = entry.question + entry.answer
        meta = {"question": entry.question, "answer": entry.answer}
        return Planned(
            "qa",
            _title(entry.question, "Q&A"),
            meta=meta,
            size_bytes=len(pair.encode()),
            char_count=counted,
            **indexed,
        )
    if entry.kind == "file":
        return _plan_file(entry, where, problems, counted, indexed)
    return Planned(  # a single web page
        "url",
        _title(entry.title, entry.url),
        url=entry.url,
        size_bytes=max(entry.size_bytes, _text_bytes(entry.passages)),
        char_count=counted,
        **indexed,
    )


def _plan_file(entry: Any, where: str, problems: list[str], counted: int, indexed: dict) -> Planned:
    planned = Planned("file", "", char_count=counted, **indexed)
    try:
        data = base64.b64decode(entry.data_base64, validate=True)
    except (binascii.Error, ValueError):
        problems.append(f"{where} '{entry.filename}': its data is not valid base64")
        return planned
    try:
        upload = schemas.check_upload(entry.filename, data)
    except ValidationFailed as error:
        problems.append(f"{where} '{entry.filename}': {error.message}")
        return planned
    planned.title = _title(entry.title, upload.filename)
    planned.meta = {"filename": upload.filename, "file_kind": upload.kind}
    planned.file_data, planned.size_bytes = data, len(data)
    return planned


def _plan_website(entry: Any, where: str, problems: list[str]) -> Planned:
    settings = get_settings()
    defaults = {"max_pages": settings.crawl_max_pages, "max_depth": settings.crawl_max_depth}
    try:
        checked = parse(schemas.WebsiteIn, FieldInvalid, url=entry.url, **entry.settings)
    except FieldInvalid as error:
        problems.append(f"{where} > settings > {error.field}: {error.message}")
        return Planned("website", entry.title)
    options = checked.model_dump(exclude={"url"})
    options.update({k: v for k, v in defaults.items() if options[k] is None})  # as when added
    pages = [
        Planned(
            "page",
            _title(page.title, page.url),
            url=page.url,
            size_bytes=max(page.size_bytes, _text_bytes(page.passages)),
            char_count=page.char_count or sum(len(p.text) for p in page.passages),
            content_hash=page.content_hash,
            passages=list(page.passages),
        )
        for page in entry.pages
        if page.passages  # a page without passages is fetched again by the site's next sync
    ]
    return Planned(
        "website",
        _title(entry.title, entry.url),
        url=entry.url,
        meta=options,
        size_bytes=sum(p.size_bytes for p in pages),
        char_count=sum(p.char_count for p in pages),
        pages=pages,
    )


def _text_bytes(passages: list[Passage]) -> int:
    return sum(len(p.text.encode()) for p in passages)


def check_room(planned: list[Planned], problems: list[str]) -> None:
    """The bot's storage limit, counted as the sources service counts it (a site by its pages)."""
    used = sum(p.size_bytes for p in planned)
    limit_mb = get_settings().bot_storage_limit_mb
    if used > limit_mb * schemas.MB:
        problems.append(
            f"the bot's knowledge is {used / schemas.MB:.1f} MB; this installation keeps at most "
            f"{limit_mb:g} MB per bot (BOT_STORAGE_LIMIT_MB)"
        )
