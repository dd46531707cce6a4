"""Uploaded files, pasted text and fetched pages -> Document (title + sections).

The kind of a file is decided by its content, never by its name alone: a renamed PDF is still a
PDF and a ".pdf" holding plain text is text. The name only breaks ties between text kinds
(Markdown vs plain text, an HTML fragment). At upload, a name that contradicts the content is
refused (`file_checks.check_name_agrees`), so the owner learns what the file really is.
Every failure is a ValidationFailed whose message a non-technical person can act on; library
exceptions never escape.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.extract_common import (
    filename_stem,
    format_size,
    normalize_text,
    one_line,
)
from chatapp.services.knowledge.ingest.extract_docx import DAMAGED as DOCX_DAMAGED
from chatapp.services.knowledge.ingest.extract_docx import extract_docx
from chatapp.services.knowledge.ingest.extract_html import extract_html, extract_html_document
from chatapp.services.knowledge.ingest.extract_pdf import extract_pdf
from chatapp.services.knowledge.ingest.types import Document, Section

__all__ = ["SUPPORTED", "detect_kind", "extract_file", "extract_html", "extract_text"]

SUPPORTED = {"pdf", "docx", "txt", "md", "html"}

EMPTY = "The file is empty."
TEXT_EMPTY = "The text is empty."
UNSUPPORTED = "This file type is not supported: upload PDF, DOCX, TXT, Markdown or HTML."
OLD_WORD = "This is an old Word (.doc) file: save it as DOCX in Word and upload it again."
UNREADABLE = "We could not read this file: it may be damaged."

MAX_CONTROL_SHARE = 0.01  # text with more control characters than this is binary data
SNIFF_BYTES = 4096

logger = logging.getLogger(__name__)

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HTML_START = re.compile(
    r"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Cc except \t \n \v \f \r
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls/.ppt container


def detect_kind(data: bytes, filename: str) -> str:
    """ "pdf", "docx", "html", "md" or "txt", from the bytes; ValidationFailed for anything else."""
    if not data:
        raise ValidationFailed(EMPTY)
    if data[:1024].lstrip()[:5] == b"%PDF-":
        return "pdf"
    if data.startswith(b"PK"):
        return _zip_kind(data, filename)
    if data.startswith(_OLE_MAGIC):
        raise ValidationFailed(OLD_WORD if filename.lower().endswith(".doc") else UNSUPPORTED)
    return _text_kind(decode_text(data), filename)


def extract_file(data: bytes, filename: str, *, max_bytes: int) -> Document:
    """Extract an uploaded file of any supported kind; size is checked before any parsing."""
    if not data:
        raise ValidationFailed(EMPTY)
    if len(data) > max_bytes:
        raise ValidationFailed(f"This file is larger than the {format_size(max_bytes)} limit.")
    kind = detect_kind(data, filename)
    try:
        if kind == "pdf":
            return extract_pdf(data, filename)
        if kind == "docx":
            return extract_docx(data, filename, max_bytes=max_bytes)
        text = decode_text(data)
        if kind == "html":
            stem = filename_stem(filename)
            return extract_html_document(
                text, url="", max_words=None, fallback_title=stem, filename=filename
            )
        document = _text_document(text, title="", kind=kind, empty_message=EMPTY)
        document.title = document.title or filename_stem(filename)
        document.filename = filename
        return document
    except ValidationFailed:
        raise
    except Exception as exc:  # a bug or a library surprise must still read as a refusal
        logger.warning("extraction of %r (%s) failed", filename, kind, exc_info=True)
        raise ValidationFailed(UNREADABLE) from exc


def extract_text(text: str, *, title: str, kind: str = "text") -> Document:
    """Pasted text or Markdown: sections start at Markdown headings (# .. ######).

    The title is the one given, else the first heading, else "Untitled".
    """
    document = _text_document(text, title=title, kind=kind, empty_message=TEXT_EMPTY)
    document.title = document.title or "Untitled"
    return document


def _text_document(text: str, *, title: str, kind: str, empty_message: str) -> Document:
    """extract_text leaving the title "" when neither given nor found (files use their name)."""
    sections: list[Section] = []
    heading = ""
    first_heading = ""
    body: list[str] = []
    fence = ""

    def flush() -> None:
        cleaned = normalize_text("\n".join(body), keep_indent=True)
        if cleaned:
            sections.append(Section(text=cleaned, heading=heading))
        body.clear()

    for line in normalize_text(text, keep_indent=True).split("\n"):
        opening = _FENCE.match(line)
        if opening and (not fence or opening.group(1) == fence):
            fence = "" if fence else opening.group(1)
        match = None if fence or opening else _HEADING.match(line)
        heading_text = _plain_heading(match.group(2)) if match else ""
        if heading_text:
            flush()
            heading = heading_text
            first_heading = first_heading or heading_text
        else:
            body.append(line)
    flush()
    if not sections:
        raise ValidationFailed(empty_message)
    return Document(title=one_line(title) or first_heading, kind=kind, sections=sections)


def decode_text(data: bytes) -> str:
    """Bytes -> str: BOMs first, then UTF-8, then cp1252 if that yields no control characters."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif b"\x00" in data:  # UTF-16 without a BOM is too rare to guess; this is binary
        raise ValidationFailed(UNSUPPORTED)
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _mostly_controls(text, strict=encoding == "cp1252"):
            return text
    raise ValidationFailed(UNSUPPORTED)


def _mostly_controls(text: str, *, strict: bool) -> bool:
    """Whether decoded text is really binary: any NUL, or too many other control characters."""
    if "\x00" in text:
        return True
    controls = len(_CONTROL_CHARS.findall(text))
    return controls > (0 if strict else MAX_CONTROL_SHARE * len(text))


def _zip_kind(data: bytes, filename: str) -> str:
    """A zip is a DOCX only if it holds word/document.xml; other zips are refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except Exception as exc:  # not a readable zip: maybe text that starts with "PK"
        if filename.lower().endswith((".docx", ".docm")):
            raise ValidationFailed(DOCX_DAMAGED) from exc
        try:
            return _text_kind(decode_text(data), filename)
        except ValidationFailed:
            raise ValidationFailed(UNSUPPORTED) from exc
    if "word/document.xml" in names:
        return "docx"
    if filename.lower().endswith(".docx"):
        raise ValidationFailed(DOCX_DAMAGED)
    raise ValidationFailed(UNSUPPORTED)


def _text_kind(text: str, filename: str) -> str:
    """HTML if it starts like a page, Markdown by name or headings, else plain text."""
    head = text.lstrip("\ufeff \t\r\n")[:SNIFF_BYTES]
    name = filename.lower()
    if _HTML_START.match(head) or (name.endswith((".html", ".htm")) and head.startswith("<")):
        return "html"
    if name.endswith((".md", ".markdown")):
        return "md"
    if _has_markdown_heading(text):
        return "md"
    return "txt"


def _has_markdown_heading(text: str) -> bool:
    fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fence = not fence
        elif not fence and _HEADING.match(line):
            return True
    return False


def _plain_heading(raw: str) -> str:
    """Heading text without emphasis markers: "**Pricing**" -> "Pricing"."""
    return one_line(raw.strip().strip("*_`").strip())
