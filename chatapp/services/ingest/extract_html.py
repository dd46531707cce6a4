"""HTML -> Document: the readable text of a page, split at its headings, boilerplate dropped.

Used for uploaded .html files and for crawled pages. Scripts, styles, navigation, headers,
footers, forms, embeds, hidden elements and cookie banners are skipped while walking the tree,
so none of their text (and no markup at all) reaches the output. When the page has a <main>
(or a single <article>) holding a fair share of the text, only that is kept.

The walk is iterative (an explicit stack), so deeply nested markup cannot exhaust the stack.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString, Script, Stylesheet, TemplateString

from chatapp.services.errors import ValidationFailed
from chatapp.services.ingest.extract_common import cap_words, normalize_text, one_line
from chatapp.services.ingest.types import Document, Section

NO_TEXT = "This page has no text we can read."

_SKIP = (
    "script style noscript nav footer aside svg math iframe frame frameset template object "
    "embed canvas button select textarea input dialog head title"
)
SKIP_TAGS = frozenset(_SKIP.split())
# Dropped only when small: ASP.NET wraps whole pages in a <form>, and a class such as
# "has-cookie-banner" on a page wrapper must not take the page with it.
SMALL_JUNK_WORDS = 300
JUNK_MARKERS = ("cookie", "consent", "gdpr", "banner")
SKIP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog"})
PROTECTED = frozenset({"html", "body", "main", "article"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "caption", "figcaption", "summary", "option"})
_PARAGRAPHS = (
    "p div section article main blockquote pre ul ol dl table figure address details fieldset "
    "hr center body header"
)
PARAGRAPH_TAGS = frozenset(_PARAGRAPHS.split())
MAIN_SHARE = 0.25  # <main> must hold at least this share of the page's words to be preferred

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_SKIP_STRINGS = (PreformattedString, Script, Stylesheet, TemplateString)  # comments, CDATA, ...


def extract_html(html: str | bytes, *, url: str = "", max_words: int | None = None) -> Document:
    """Sections split at h1-h6 (heading = nearest heading), capped at `max_words` words."""
    return extract_html_document(html, url=url, max_words=max_words, fallback_title="")


def extract_html_document(
    html: str | bytes, *, url: str, max_words: int | None, fallback_title: str, filename: str = ""
) -> Document:
    """extract_html with a chosen fallback title (the filename stem for uploaded files)."""
    try:
        soup = BeautifulSoup(html, "lxml")
        sections, first_h1 = _choose_content(soup)
        title_tag = soup.head.find("title") if soup.head else None  # not an <svg><title>
        page_title = one_line(title_tag.get_text()) if title_tag is not None else ""
    except ValidationFailed:
        raise
    except Exception as exc:  # parser trouble on hostile markup: report, do not crash
        raise ValidationFailed(NO_TEXT) from exc
    sections = cap_words(sections, max_words)
    if not sections:
        raise ValidationFailed(NO_TEXT)
    title = page_title or first_h1 or fallback_title or url or "Untitled"
    return Document(title=title, kind="html", sections=sections, url=url, filename=filename)


def _choose_content(soup: BeautifulSoup) -> tuple[list[Section], str]:
    """The whole body's sections, or those of <main>/<article> when it is substantial."""
    body = soup.body or soup
    small_junk = _small_junk(body)
    page = _Walker(small_junk).run(body)
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is None:
        articles = soup.find_all("article")
        main = articles[0] if len(articles) == 1 else None
    if isinstance(main, Tag) and main is not body:
        focused = _Walker(small_junk).run(main)
        if focused.words and focused.words >= MAIN_SHARE * page.words:
            return focused.sections, focused.first_h1 or page.first_h1
    return page.sections, page.first_h1


def _skip(tag: Tag, *, in_article: bool, small_junk: set[int]) -> bool:
    """Whether a tag and everything inside it is boilerplate or invisible."""
    name = tag.name
    if name in SKIP_TAGS or (name == "header" and not in_article):
        return True
    if name in PROTECTED:
        return False
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    if _HIDDEN_STYLE.search(str(tag.get("style", ""))):
        return True
    if str(tag.get("role", "")).lower() in SKIP_ROLES:
        return True
    return id(tag) in small_junk


def _small_junk(root: Tag) -> set[int]:
    """ids of forms and banner-like elements with at most SMALL_JUNK_WORDS words and no
    main/article inside: one bottom-up pass, so nested wrappers cannot make this quadratic."""
    small: set[int] = set()
    stack: list[list] = [[root, iter(root.children), 0, False]]  # tag, children, words, has_main
    while stack:
        frame = stack[-1]
        child = next(frame[1], None)
        if isinstance(child, Tag):
            stack.append([child, iter(child.children), 0, False])
        elif isinstance(child, NavigableString):
            if not isinstance(child, _SKIP_STRINGS):
                frame[2] += len(child.split())
        elif child is None:
            stack.pop()
            tag, _, words, has_main = frame
            junk = tag.name == "form" or _looks_like_banner(tag)
            if junk and not has_main and words <= SMALL_JUNK_WORDS:
                small.add(id(tag))
            if stack:
                stack[-1][2] += words
                stack[-1][3] = stack[-1][3] or has_main or tag.name in ("main", "article")
    return small


def _looks_like_banner(tag: Tag) -> bool:
    classes = tag.get("class") or []
    marker = " ".join([str(tag.get("id", "")), *map(str, classes)]).lower()
    return any(word in marker for word in JUNK_MARKERS)


class _Walker:
    """Turns a subtree into sections: blocks become lines, headings start new sections."""

    def __init__(self, small_junk: set[int]) -> None:
        self._small_junk = small_junk
        self.sections: list[Section] = []
        self.first_h1 = ""
        self.words = 0
        self._heading = ""
        self._lines: list[str] = []
        self._inline: list[str] = []
        self._heading_parts: list[str] | None = None  # set while inside h1-h6
        self._heading_depth = 0
        self._pre = 0
        self._article = 0

    def run(self, root: Tag) -> _Walker:
        self._enter(root)
        stack = [(root, iter(root.children))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                self._exit(node)
            elif isinstance(child, Tag):
                skip = _skip(child, in_article=self._article > 0, small_junk=self._small_junk)
                if not skip:
                    self._enter(child)
                    stack.append((child, iter(child.children)))
            elif isinstance(child, NavigableString) and not isinstance(child, _SKIP_STRINGS):
                self._text(str(child))
        self._end_section()
        return self

    def _text(self, text: str) -> None:
        if not self._pre:
            text = _WHITESPACE.sub(" ", text)
        target = self._heading_parts if self._heading_parts is not None else self._inline
        target.append(text)

    def _enter(self, tag: Tag) -> None:
        name = tag.name
        if name in ("article", "main"):
            self._article += 1
        if name == "pre":
            self._pre += 1
        if name in HEADINGS:
            self._heading_depth += 1
            if self._heading_depth == 1:
                self._paragraph_break()
                self._heading_parts = []
        elif name == "br":
            self._end_line()
        elif name in LINE_TAGS:
            self._end_line()
            if name == "li":
                self._inline.append("- ")
        elif name in ("td", "th"):
            if "".join(self._inline).strip():
                self._inline.append(" | ")
        elif name in PARAGRAPH_TAGS:
            self._paragraph_break()

    def _exit(self, tag: Tag) -> None:
        name = tag.name
        if name in ("article", "main"):
            self._article -= 1
        if name == "pre":
            self._pre -= 1
        if name in HEADINGS:
            self._heading_depth -= 1
            if self._heading_depth > 0 or self._heading_parts is None:
                return
            heading = one_line("".join(self._heading_parts))
            self._heading_parts = None
            if heading:
                self._end_section()
                self._heading = heading
                if name == "h1" and not self.first_h1:
                    self.first_h1 = heading
        elif name in LINE_TAGS:
            self._end_line()
        elif name in PARAGRAPH_TAGS:
            self._paragraph_break()

    def _end_line(self) -> None:
        line = "".join(self._inline)
        self._inline.clear()
        if line.strip() not in ("", "-"):
            self._lines.append(line)

    def _paragraph_break(self) -> None:
        self._end_line()
        if self._lines and self._lines[-1]:
            self._lines.append("")

    def _end_section(self) -> None:
        self._end_line()
        text = normalize_text("\n".join(self._lines))
        self._lines.clear()
        if text:
            self.sections.append(Section(text=text, heading=self._heading))
            self.words += len(text.split())
