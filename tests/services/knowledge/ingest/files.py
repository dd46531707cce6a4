"""Builds real test files at test time (PDF, DOCX, zips) so no binary fixtures are committed."""

from __future__ import annotations

import io
import random
import zipfile

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter


def pdf(pages: list[str], *, title: str | None = None) -> bytes:
    """A text PDF with one page per string (Latin-1 text, core Helvetica font)."""
    document = FPDF()
    if title is not None:
        document.set_title(title)
    document.set_font("Helvetica", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 8, text)
    return bytes(document.output())


def laid_out_pdf(pages: list[list[str]], *, header: str = "", numbered: bool = False) -> bytes:
    """A PDF whose lines are placed one by one, as a word processor lays out wrapped text, with an
    optional running header and "Page n of m" footer on every page."""
    document = _LaidOut(header, numbered)
    document.set_font("Helvetica", size=11)
    for lines in pages:
        document.add_page()
        for line in lines:
            document.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


class _LaidOut(FPDF):
    def __init__(self, running_header: str, numbered: bool) -> None:
        super().__init__()
        self.running_header, self.numbered = running_header, numbered

    def header(self) -> None:
        if self.running_header:
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, self.running_header, new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", size=11)

    def footer(self) -> None:
        if self.numbered:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}")


def blank_pdf(pages: int = 2) -> bytes:
    """A valid PDF whose pages carry no text at all (like a scan without OCR)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    return _write(writer)


def encrypted_pdf(data: bytes, *, user_password: str, owner_password: str = "owner") -> bytes:
    """`data` encrypted with AES-256; an empty user password opens without a prompt."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, owner_password, algorithm="AES-256")
    return _write(writer)


def docx_file(blocks: list[tuple[str, object]], *, title: str = "") -> bytes:
    """A DOCX from ("h1".."h3" | "title" | "p" | "li" | "table", content) blocks."""
    document = docx.Document()
    document.core_properties.title = title
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(str(content), level=0)
        elif kind.startswith("h"):
            document.add_heading(str(content), level=int(kind[1:]))
        elif kind == "li":
            document.add_paragraph(str(content), style="List Bullet")
        elif kind == "table":
            rows = content
            assert isinstance(rows, list)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for row, values in zip(table.rows, rows, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
        else:
            document.add_paragraph(str(content))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bomb(*, unpacked_bytes: int, name: str = "word/document.xml") -> bytes:
    """A zip that looks like a DOCX but whose document part is megabytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open(name, "w", force_zip64=True) as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked_bytes // len(chunk)):
                part.write(chunk)
    return buffer.getvalue()


def zip_file(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def random_bytes(size: int = 4096, *, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def _write(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
