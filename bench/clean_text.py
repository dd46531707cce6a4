"""Chrome left in chunks: navigation, table-of-contents and footer chunks in HTML doc sets.

Each HTML file of a doc set shipped by Debian is extracted as an uploaded file would be
(`extract_file`, the same call as the upload path) and cut into chunks (`chunk_document`); the
embedding and the store are skipped, as they do not change the text. Doc sets (install with
`apt-get install -y debian-faq python-django-doc git-doc`): the Debian FAQ
(/usr/share/doc/debian/FAQ/*.en.html), Django's HTML docs (/usr/share/doc/python-django-doc/html)
and git's (/usr/share/doc/git-doc).

The detector works on a chunk's text only and does not reuse the extractor's rules. A chunk
offends when it has
* a chrome line ("footer"): a whole line that is a pager or generator trailer: only navigation
  words (prev/previous/next/up/home/index/contents/modules/top) and separators ("|", "«", "»"),
  "Last updated/update ...", "Part of the ... suite", "Edit this page", "View page source",
  "Back to top", or a line holding a permalink mark "¶";
* a table-of-contents line ("toc"): a line reading "Table of Contents";
* a list of headings ("navigation"): at least 3 lines, and 60 % of them, that are, after list
  markers and section numbers ("- ", "1.2.") are removed, a heading (h1-h6) or page title of the
  same doc set, read straight from the raw HTML. A table of contents, a menu, a sidebar or a
  "Prev / Next" bar naming the neighbouring pages is such a list; prose is not. One-word lines
  never count: a list of option or filter names ("max_length", "join") matches a reference's
  headings and is content.
Also reported: the share of the words of BeautifulSoup's plain `get_text()` of each page that the
extraction keeps (a sanity check that cleaning does not drop content wholesale).

Usage: .venv/bin/python bench/clean_text.py [--sets debian-faq,django,git] [--examples N]
Prints one JSON object. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import warnings
from pathlib import Path

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.chunk import chunk_document
from chatapp.services.knowledge.ingest.extract import extract_file

SETS = {
    "debian-faq": (Path("/usr/share/doc/debian/FAQ"), "*.en.html"),
    "django": (Path("/usr/share/doc/python-django-doc/html"), "**/*.html"),
    "git": (Path("/usr/share/doc/git-doc"), "*.html"),
}
MAX_BYTES = 50 * 1024 * 1024
MIN_LIST_LINES = 3
HEADING_SHARE = 0.6

_NAV_WORDS = {"prev", "previous", "next", "up", "home", "index", "contents", "modules", "top"}
_NAV_TOKENS = re.compile(r"[\s|«»\u2039\u203a←→·•:]+")
_TRAILER = re.compile(
    r"(last updated?\b.*|part of the [\w.-]+(?:\(\d\))? suite|edit this page.*"
    r"|view page source|back to top)",
    re.IGNORECASE,
)
_TOC = re.compile(r"table of contents:?", re.IGNORECASE)
_LIST_MARK = re.compile(
    r"^(?:[-*•]\s+)?(?:(?:chapter|section|appendix)\s+)?(?:\d+|[A-Z])?(?:\.\d+)*\.?\s*"
)
_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    """A heading or line compared loosely: numbering, "¶", case and outer punctuation ignored."""
    text = _LIST_MARK.sub("", text.replace("¶", "").strip(), count=1)
    return _SPACES.sub(" ", text).strip(" .:?!").lower()


def _soup(data: bytes) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(data, "lxml")


def headings_of(files: list[Path]) -> set[str]:
    """Every h1-h6 and <title> text of the doc set, from the raw HTML."""
    found: set[str] = set()
    for path in files:
        soup = _soup(path.read_bytes())
        for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "title"]):
            key = _key(tag.get_text(" "))
            if len(key) > 2:
                found.add(key)
    return found


def offence(text: str, headings: set[str]) -> str:
    """ "footer", "toc", "navigation" or "" (see the module docstring)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for line in lines:
        words = [word for word in _NAV_TOKENS.split(line.lower()) if word]
        pager = len(words) >= 2 and all(word in _NAV_WORDS for word in words)
        if pager or "¶" in line or _TRAILER.fullmatch(line):
            return "footer"
        if _TOC.fullmatch(line):
            return "toc"
    if len(lines) >= MIN_LIST_LINES:
        listed = sum(1 for line in lines if " " in _key(line) and _key(line) in headings)
        if listed >= MIN_LIST_LINES and listed >= HEADING_SHARE * len(lines):
            return "navigation"
    return ""


def run_set(root: Path, pattern: str, examples: int) -> dict:
    files = sorted(path for path in root.glob(pattern) if path.is_file())
    headings = headings_of(files)
    chunks = refused = kept_words = plain_words = 0
    kinds: dict[str, int] = {}
    found: list[dict] = []
    for path in files:
        data = path.read_bytes()
        body = _soup(data).body
        plain_words += len(body.get_text(" ").split()) if body else 0
        try:
            document = extract_file(data, path.name, max_bytes=MAX_BYTES)
        except ValidationFailed:
            refused += 1  # a page with nothing but navigation has no text to index
            continue
        kept_words += len(document.text.split())
        for chunk in chunk_document(document):
            chunks += 1
            kind = offence(chunk.text, headings)
            if kind:
                kinds[kind] = kinds.get(kind, 0) + 1
                if len(found) < examples:
                    relative = str(path.relative_to(root))
                    found.append({"file": relative, "kind": kind, "text": chunk.text[:240]})
    return {
        "files": len(files),
        "refused_files": refused,
        "chunks": chunks,
        "offending": sum(kinds.values()),
        "by_kind": kinds,
        "words_kept_share": round(kept_words / plain_words, 3) if plain_words else None,
        "examples": found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--examples", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    results: dict[str, dict] = {}
    for name in args.sets.split(","):
        root, pattern = SETS[name]
        if not root.is_dir():
            results[name] = {"error": f"{root} is missing: apt-get install -y the package"}
            continue
        results[name] = run_set(root, pattern, args.examples)
    measured = [r for r in results.values() if "chunks" in r]
    print(
        json.dumps(
            {
                "chunks_total": sum(r["chunks"] for r in measured),
                "offending_total": sum(r["offending"] for r in measured),
                "sets": results,
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=1,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
