"""PDF -> Document with pypdf: one section per page, so citations can name the page.

Encryption: a PDF with only an owner password (the "no copying/printing" kind) opens in every
viewer without a prompt, so we open it too by trying the empty user password; a PDF that needs a
password to open is refused. pypdf itself caps decompressed stream sizes (pypdf.filters limits),
so a compressed-stream bomb fails with LimitReachedError, which is reported as a damaged file.

pypdf's plain extraction mode is used: it follows the content order (multi-column pages come out
column by column) but yields lines without the blank lines between paragraphs. Its "layout" mode
keeps those gaps but lays columns side by side, mixing their lines, and is slower.
"""

from __future__ import annotations

import io
import logging

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from chatapp.services.errors import ValidationFailed
from chatapp.services.ingest.extract_common import filename_stem, normalize_text, one_line
from chatapp.services.ingest.types import Document, Section

MAX_PAGES = 2_000

DAMAGED = "This PDF file is damaged and cannot be read."
PASSWORD = "This PDF is password-protected: remove the password and upload it again."
NO_TEXT = "This PDF has no text we can read (it may be scanned images)."
TOO_MANY_PAGES = f"This PDF has more than {MAX_PAGES:,} pages: split it into smaller files."

logger = logging.getLogger(__name__)


def extract_pdf(data: bytes, filename: str) -> Document:
    """Text of every page (1-based `Section.page`); title from metadata, else the filename."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:  # pypdf raises many kinds on malformed input
        raise ValidationFailed(DAMAGED) from exc
    _open_encrypted(reader)
    try:
        page_count = len(reader.pages)
    except Exception as exc:
        raise ValidationFailed(DAMAGED) from exc
    if page_count > MAX_PAGES:
        raise ValidationFailed(TOO_MANY_PAGES)

    sections: list[Section] = []
    failed = 0
    for number in range(1, page_count + 1):
        try:
            raw = reader.pages[number - 1].extract_text()
        except Exception:  # one broken page should not lose the other pages
            logger.info("pdf page %d of %r could not be read", number, filename, exc_info=True)
            failed += 1
            continue
        text = normalize_text(raw or "")
        if text:
            sections.append(Section(text=text, page=number))
    if not sections:
        raise ValidationFailed(DAMAGED if failed or page_count == 0 else NO_TEXT)
    return Document(
        title=_title(reader) or filename_stem(filename),
        kind="pdf",
        sections=sections,
        filename=filename,
    )


def _open_encrypted(reader: PdfReader) -> None:
    """Refuse PDFs that need a password to open; open owner-password-only ones."""
    try:
        if not reader.is_encrypted:
            return
        opened = reader.decrypt("")
    except DependencyError as exc:  # an encryption scheme needing a missing crypto library
        raise ValidationFailed(PASSWORD) from exc
    except Exception as exc:
        raise ValidationFailed(DAMAGED) from exc
    if opened == PasswordType.NOT_DECRYPTED:
        raise ValidationFailed(PASSWORD)


def _title(reader: PdfReader) -> str:
    """The metadata title, without the "Microsoft Word - report.docx" that Word printers add."""
    try:
        metadata = reader.metadata
        title = one_line(str(metadata.title or "")) if metadata is not None else ""
    except Exception:  # a broken info dictionary only costs us the title
        return ""
    if title.startswith("Microsoft Word - "):
        title = filename_stem(title.removeprefix("Microsoft Word - "))
    return "" if title.lower() in {"untitled", "untitled document"} else title
