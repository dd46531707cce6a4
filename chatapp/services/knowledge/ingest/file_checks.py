"""What an uploaded file must pass before it is stored: an honest name, a name that agrees with
the content, and a document its extractor can open.

Why at upload: the file is already in memory (at most MAX_UPLOAD_MB), so these checks cost
milliseconds while the request waits, and the owner learns what is wrong at once instead of
finding a failed source later. Each check raises `ValidationFailed` with a sentence a person
can act on; `knowledge/schemas.check_upload` runs them in order.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.extract_docx import check_zip
from chatapp.services.knowledge.ingest.extract_pdf import check_pdf

# Characters that reorder or hide what a name shows ("invoice\u202etxt.exe" reads as
# "invoiceexe.txt"): the Unicode bidirectional formatting characters.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
# Browsers and HTTP clients write a NUL or a line break in a multipart file name as %00 / %0A.
_ENCODED_CONTROL = re.compile(r"%(0[0-9a-f]|1[0-9a-f]|7f)", re.IGNORECASE)

# What a name's extension promises, and what the content may be for the promise to hold.
_CLAIMS = {
    ".pdf": ("a PDF", {"pdf"}),
    ".docx": ("a Word (DOCX) file", {"docx"}),
    ".docm": ("a Word (DOCX) file", {"docx"}),
    ".html": ("a web page", {"html", "txt", "md"}),
    ".htm": ("a web page", {"html", "txt", "md"}),
    ".txt": ("a text file", {"txt", "md", "html"}),
    ".md": ("a Markdown file", {"txt", "md", "html"}),
    ".markdown": ("a Markdown file", {"txt", "md", "html"}),
}
_REALLY = {
    "pdf": ("a PDF", ".pdf"),
    "docx": ("a Word (DOCX) file", ".docx"),
    "html": ("an HTML page", ".html"),
    "md": ("Markdown text", ".md"),
    "txt": ("plain text", ".txt"),
}


def hidden_character(filename: str) -> str | None:
    """The first control or text-direction character in a name, as "U+202E", else None."""
    for char in filename:
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            return f"U+{ord(char):04X}"
    encoded = _ENCODED_CONTROL.search(filename)
    return f"U+00{encoded.group(1).upper()}" if encoded else None


def visible_name(filename: str) -> str:
    """The name as it may be shown: each hidden character replaced by a visible mark."""
    return "".join(
        "\ufffd" if unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS else c for c in filename
    )


def check_name(filename: str) -> None:
    """Refuse a name that hides characters: it would show one name and mean another."""
    found = hidden_character(filename or "")
    if found:
        raise ValidationFailed(
            f"The file name contains a hidden control or text-direction character ({found}): "
            "rename the file and upload it again."
        )


def check_name_agrees(filename: str, kind: str) -> None:
    """Refuse a file whose content is not what its extension says (HTML bytes named .pdf)."""
    suffix = PurePosixPath(filename.lower()).suffix
    claim = _CLAIMS.get(suffix)
    if claim is None or kind in claim[1]:
        return  # an unknown extension promises nothing; the content decides
    named, (really, extension) = claim[0], _REALLY[kind]
    raise ValidationFailed(
        f"{filename} is named like {named} but is really {really}: rename it to {extension} "
        f"or upload the real {suffix.lstrip('.').upper()} file."
    )


def check_opens(kind: str, data: bytes, *, max_bytes: int) -> None:
    """The cheap part of extraction: a PDF opens without a password and its pages load; a DOCX
    zip has a sane directory whose unpacked size is in proportion (nothing is decompressed)."""
    if kind == "pdf":
        check_pdf(data)
    elif kind == "docx":
        check_zip(data, max_bytes=max_bytes)
