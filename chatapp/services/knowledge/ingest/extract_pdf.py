"""PDF -> Document with pypdfium2 (PDFium, Chrome's PDF engine): one section per page, so
citations can name the page.

Why PDFium and not pypdf: measured here on the Debian FAQ's PDF (TeX-made, 73 pages), pypdf took
1.4 s and glued the words of most lines together ("TheofficialdocumentgivinginstallationGuide");
PDFium took 0.16 s with the words apart. PDFium is not thread-safe, so calls are serialised.

Encryption: a PDF with only an owner password (the "no copying/printing" kind) opens in every
viewer without a prompt, so it opens here too; a PDF that needs a password to open is refused.

The page text is then cleaned (clean_pages), because a sentence cut at a line wrap loses its
start in answers ("voucher value we accept is £5,000." without "The maximum"): running headers
and footers and page numbers are dropped, and wrapped lines and hyphenated words are joined.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.extract_common import filename_stem, normalize_text, one_line
from chatapp.services.knowledge.ingest.types import Document, Section

MAX_PAGES = 2_000
# A line at the top or bottom of a page (EDGE_LINES deep) that repeats, digits aside, on at least
# REPEAT_SHARE of the pages (and on MIN_REPEAT_PAGES or more) is a running header or footer.
EDGE_LINES = 2
REPEAT_SHARE = 0.5
MIN_REPEAT_PAGES = 3
# A line at least this share of the document's typical full line length was wrapped by layout.
FULL_LINE_SHARE = 0.75

DAMAGED = "This PDF file is damaged and cannot be read."
PASSWORD = "This PDF is password-protected: remove the password and upload it again."
NO_TEXT = "This PDF has no text we can read (it may be scanned images)."
TOO_MANY_PAGES = f"This PDF has more than {MAX_PAGES:,} pages: split it into smaller files."

logger = logging.getLogger(__name__)
_PDFIUM = threading.Lock()  # PDFium keeps global state: one document at a time per process
_SOFT_HYPHEN = "\x02"  # PDFium's mark for a word hyphenated at a line end


def extract_pdf(data: bytes, filename: str) -> Document:
    """Text of every page (1-based `Section.page`); title from metadata, else the filename."""
    with _PDFIUM:
        title, pages = _read(data, filename)
    failed = pages.count(None)
    sections = [
        Section(text=text, page=number)
        for number, text in enumerate(clean_pages(pages), start=1)
        if text
    ]
    if not sections:
        raise ValidationFailed(DAMAGED if failed or not pages else NO_TEXT)
    return Document(
        title=title or filename_stem(filename), kind="pdf", sections=sections, filename=filename
    )


def check_pdf(data: bytes) -> None:
    """At upload: the PDF opens without a password and every page loads (no text is read).

    PDFium is the extractor too, so a file that passes here is one the extractor can open."""
    with _PDFIUM:
        document = _open(data)
        try:
            if len(document) > MAX_PAGES:
                raise ValidationFailed(TOO_MANY_PAGES)
            if len(document) == 0:
                raise ValidationFailed(DAMAGED)
            for index in range(len(document)):
                try:
                    document[index].close()
                except Exception as exc:
                    raise ValidationFailed(DAMAGED) from exc
        finally:
            document.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ValidationFailed(PASSWORD if _needs_password(exc) else DAMAGED) from exc
    except Exception as exc:
        raise ValidationFailed(DAMAGED) from exc


def _read(data: bytes, filename: str) -> tuple[str, list[str | None]]:
    """The metadata title and each page's text (None for a page that could not be read)."""
    document = _open(data)
    try:
        if len(document) > MAX_PAGES:
            raise ValidationFailed(TOO_MANY_PAGES)
        pages = [_page_text(document, index, filename) for index in range(len(document))]
        return _title(document), pages
    finally:
        document.close()


def _needs_password(error: Exception) -> bool:
    return getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD


def _page_text(document: pdfium.PdfDocument, index: int, filename: str) -> str | None:
    try:
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                raw = textpage.get_text_bounded()
            finally:
                textpage.close()
        finally:
            page.close()
    except Exception:  # one broken page should not lose the other pages
        logger.info("pdf page %d of %r could not be read", index + 1, filename, exc_info=True)
        return None
    return normalize_text(raw.replace(_SOFT_HYPHEN + "\r\n", "").replace(_SOFT_HYPHEN, ""))


def _title(document: pdfium.PdfDocument) -> str:
    """The metadata title, without the "Microsoft Word - report.docx" that Word printers add."""
    try:
        title = one_line(str(document.get_metadata_dict().get("Title") or ""))
    except Exception:  # a broken info dictionary only costs us the title
        return ""
    if title.startswith("Microsoft Word - "):
        title = filename_stem(title.removeprefix("Microsoft Word - "))
    return "" if title.lower() in {"untitled", "untitled document"} else title


# --------------------------------------------------------------------------------------------
# Line clean-up: running headers/footers, page numbers, wrapped lines, hyphenation
# --------------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(
    r"(?:page\s+)?[-\u2013(\[]?\s*\d{1,4}\s*[-\u2013)\]]?(?:\s*(?:of|/)\s*\d{1,4})?"
    r"|x{0,3}(?:ix|iv|v?i{0,3})",  # roman page numbers of a preface
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_BULLET = re.compile(r"(?:[-\u2022\u25aa\u25cf\u2013*\u25e6\u2023]|\(?(?:\d{1,3}|[a-z])[.)])\s")
_SENTENCE_END = re.compile(r"[.!?:;\u2026][\"'\u201d\u2019)\]]*$")
_HYPHENATED = re.compile(r"[^\W\d_]-$")


def clean_pages(pages: list[str | None]) -> list[str | None]:
    """Each page's text without running headers/footers or page numbers, wraps joined."""
    repeated = _running_lines(pages)
    kept: list[list[str] | None] = []
    for text in pages:
        if text is None:
            kept.append(None)
            continue
        lines = text.split("\n")
        edges = set(range(min(EDGE_LINES, len(lines)))) | set(
            range(max(0, len(lines) - EDGE_LINES), len(lines))
        )
        kept.append(
            [
                line
                for index, line in enumerate(lines)
                if index not in edges
                or not (_PAGE_NUMBER.fullmatch(line.strip()) or _edge_key(line) in repeated)
            ]
        )
    full = _full_line_length([line for lines in kept if lines for line in lines])
    return [None if lines is None else _join_wraps(lines, full) for lines in kept]


def _edge_key(line: str) -> str:
    """A header/footer line compared with its page number masked ("Page 3" == "Page 4"); an
    all-capitals line by its first two words only, as books run the current chapter's and
    section's titles in capitals ("CHAPTER 2. GETTING ..." / "CHAPTER 3. CHOOSING ...")."""
    words = line.split()
    letters = [char for char in line if char.isalpha()]
    if len(letters) >= 8 and all(char.isupper() for char in letters):
        words = [*words[:2], "\u2026"]
    return _DIGITS.sub("#", " ".join(words).lower())


def _running_lines(pages: list[str | None]) -> set[str]:
    texts = [text for text in pages if text]
    seen: Counter[str] = Counter()
    for text in texts:
        lines = text.split("\n")
        seen.update({_edge_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    needed = max(MIN_REPEAT_PAGES, REPEAT_SHARE * len(texts))
    return {key for key, count in seen.items() if key and count >= needed}


def _full_line_length(lines: list[str]) -> int:
    """The length of a full-width line: the 80th percentile of line lengths."""
    lengths = sorted(len(line) for line in lines if line)
    return lengths[int(0.8 * (len(lengths) - 1))] if lengths else 0


def _join_wraps(lines: list[str], full: int) -> str:
    """Join lines that a layout wrapped: a hyphenated word, a full line that does not end a
    sentence, or a line followed by one starting in lower case. Bullets and headings stay lines."""
    out: list[str] = []
    last = ""  # the previous raw line: "full" is judged on it, not on what it was joined to
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and _wrapped(last, line, full):
            if _HYPHENATED.search(last) and line[:1].islower():
                out[-1] = out[-1][:-1] + line
            else:
                out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        last = line
    return "\n".join(out)


def _wrapped(previous: str, line: str, full: int) -> bool:
    """Whether `line` continues `previous` (a number opening a line after a full line that
    does not end a sentence, "value is\n2.", is a wrapped number, not a list item)."""
    if _SENTENCE_END.search(previous):
        return False
    is_full = full > 0 and len(previous) >= FULL_LINE_SHARE * full
    bullet = _BULLET.match(line)
    if bullet:
        numbered = bullet.group(0)[:1].isdigit() and not _BULLET.match(previous)
        return numbered and is_full
    return line[:1].islower() or is_full
