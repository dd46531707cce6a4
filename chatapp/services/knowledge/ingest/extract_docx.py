"""DOCX -> Document with python-docx, after checking the zip cannot blow up in memory.

The zip check reads only the central directory (nothing is decompressed). The sizes it declares
are trustworthy as upper bounds: Python's zipfile never yields more than an entry's declared size
(and fails the CRC check if the data was cut short), and python-docx reads parts through zipfile.
python-docx parses XML with entity resolution off, so entity-expansion tricks do not apply.

Headings are paragraphs styled Title / Heading 1..9 (or a style based on one); tables come out
as rows of cells joined by " | ". Page headers/footers, footnotes and text boxes are left out.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.extract_common import filename_stem, normalize_text, one_line
from chatapp.services.knowledge.ingest.types import Document, Section

DAMAGED = "This DOCX file is damaged or not really a DOCX file."
BOMB = "This DOCX file unpacks to far more data than a document should: it may be unsafe."
NO_TEXT = "This DOCX file has no text."

MAX_ENTRIES = 5_000
MAX_UNPACKED = 200 * 1024 * 1024
UNPACK_FACTOR = 10  # unpacked total may be at most 10x the upload limit
MAX_RATIO = 100  # compression ratio above which a large entry is treated as a bomb
RATIO_FLOOR = 1024 * 1024  # small entries may compress well without harm
MAX_TABLE_DEPTH = 5

_HEADING_STYLE = re.compile(r"^(title|heading \d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list", re.IGNORECASE)


def check_zip(data: bytes, *, max_bytes: int) -> None:
    """Refuse zips whose declared unpacked sizes or compression ratios are out of proportion."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except Exception as exc:  # BadZipFile, LargeZipFile, struct errors on cut-off files
        raise ValidationFailed(DAMAGED) from exc
    if len(infos) > MAX_ENTRIES:
        raise ValidationFailed(BOMB)
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if unpacked > min(MAX_UNPACKED, UNPACK_FACTOR * max_bytes):
        raise ValidationFailed(BOMB)
    if unpacked > RATIO_FLOOR and unpacked > MAX_RATIO * max(packed, 1):
        raise ValidationFailed(BOMB)
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ValidationFailed(BOMB)


def extract_docx(data: bytes, filename: str, *, max_bytes: int) -> Document:
    """Paragraphs and tables in reading order, split into sections at headings."""
    check_zip(data, max_bytes=max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        return _to_document(document, filename)
    except ValidationFailed:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors, ...
        raise ValidationFailed(DAMAGED) from exc


def _to_document(document, filename: str) -> Document:
    sections: list[Section] = []
    heading = ""
    blocks: list[str] = []
    title = one_line(document.core_properties.title or "")

    def flush() -> None:
        text = normalize_text("\n\n".join(blocks))
        if text:
            sections.append(Section(text=text, heading=heading))
        blocks.clear()

    in_list = False
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(_table_text(item, depth=0))
            in_list = False
            continue
        style = _style_names(item)
        text = item.text
        if any(_HEADING_STYLE.match(name) for name in style) and one_line(text):
            flush()
            heading = one_line(text)
            if not title and "title" in (name.lower() for name in style):
                title = heading
            in_list = False
        elif any(_LIST_STYLE.match(name) for name in style) and text.strip():
            if in_list:  # consecutive list items stay on adjacent lines
                blocks[-1] += "\n- " + text
            else:
                blocks.append("- " + text)
            in_list = True
        elif text.strip():
            blocks.append(text)
            in_list = False
    flush()
    if not sections:
        raise ValidationFailed(NO_TEXT)
    return Document(
        title=title or filename_stem(filename), kind="docx", sections=sections, filename=filename
    )


def _style_names(paragraph: Paragraph) -> list[str]:
    """The paragraph's style and the styles it is based on (a custom heading based on Heading 2)."""
    names: list[str] = []
    style = paragraph.style
    while style is not None and len(names) < 5:
        names.append(style.name or "")
        style = style.base_style
    return names


def _table_text(table: Table, *, depth: int) -> str:
    """One line per row, cells joined by " | "; merged cells counted once; nested tables kept."""
    rows: list[str] = []
    for row in table.rows:
        seen: set[object] = set()  # a merged cell appears once per grid column it spans
        cells: list[str] = []
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            text = one_line(_cell_text(cell, depth=depth))
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _cell_text(cell: _Cell, *, depth: int) -> str:
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            if depth < MAX_TABLE_DEPTH:
                parts.append(_table_text(item, depth=depth + 1))
        else:
            parts.append(item.text)
    return " ".join(parts)
