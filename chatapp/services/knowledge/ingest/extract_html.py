"""HTML -> Document: the readable text of a page, split at its headings, boilerplate dropped.

Used for uploaded .html files and for crawled pages. Scripts, styles, navigation, headers,
footers, forms, embeds, hidden elements and cookie banners are skipped while walking the tree,
so none of their text (and no markup at all) reaches the output. When the page has a <main>
(or a single <article>) holding a fair share of the text, only that is kept.

Documentation chrome is dropped as well, because a table-of-contents or "Prev | Next" chunk is
retrieved for many questions and echoed into answers: elements whose class or id names them
navigation, TOC, sidebar, footer or permalink (CHROME_TOKENS), blocks made mostly of links
(menus, local TOCs, indexes), "¶" marks and whole lines of chrome text ("Last updated ...",
"Part of the git(1) suite", see extract_common.is_chrome_line). `<pre>` blocks are kept
verbatim (indentation and newlines); inline `<code>`/`<kbd>`/`<tt>` stay in their sentence;
list items and table rows are one line each.

The walk is iterative (an explicit stack), so deeply nested markup cannot exhaust the stack.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import PreformattedString, Script, Stylesheet, TemplateString

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.ingest.extract_common import (
    cap_words,
    drop_chrome_lines,
    normalize_text,
    one_line,
    verbatim_block,
)
from chatapp.services.knowledge.ingest.types import Document, Section

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
# Class/id words (split at "-", "_" and spaces) of navigation chrome in common doc generators
# (DocBook navheader/navfooter/toc, Sphinx sphinxsidebar/headerlink/toctree, asciidoc footer).
# Such an element is dropped when small or mostly links, so a "footer" class on a big content
# wrapper cannot take the page with it.
_CHROME = (
    "nav navbar navheader navfooter navigation breadcrumb breadcrumbs toc toctree sidebar "
    "sphinxsidebar headerlink footer pagination pager searchbox skip permalink"
)
CHROME_TOKENS = frozenset(_CHROME.split())
# A block with at least LINK_BLOCK_LINKS links and this share of its words inside links is a
# menu, a local table of contents or an index, not prose.
LINK_SHARE = 0.7
LINK_BLOCK_LINKS = 3
LINK_BLOCKS = frozenset(
    ["ul", "ol", "dl", "table", "div", "p", "section", "header", "center", "menu", "td"]
)
SKIP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog"})
PROTECTED = frozenset({"html", "body", "main", "article"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "caption", "figcaption", "summary", "option"})
_PARAGRAPHS = (
    "p div section article main blockquote ul ol dl table figure address details fieldset "
    "hr center body header"
)
PARAGRAPH_TAGS = frozenset(_PARAGRAPHS.split())
MAIN_SHARE = 0.25  # <main> must hold at least this share of the page's words to be preferred

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")  # punctuation between links ("a, b, c") is not a word
_TOKEN_SPLIT = re.compile(r"[-_\s]+")
_PILCROW = "\u00b6"
_SKIP_STRINGS = (PreformattedString, Script, Stylesheet, TemplateString)  # comments, CDATA, ...


def extract_html(html: str | bytes, *, url: str = "", max_words: int | None = None) -> Document:
    """Sections split at h1-h6 (heading = nearest heading), capped at `max_words` words."""
    return extract_html_document(html, url=url, max_words=max_words, fallback_title="")


def extract_html_document(
    html: str | bytes, *, url: str, max_words: int | None, fallback_title: str, filename: str = ""
) -> Document:
    """extract_html with a chosen fallback title (the filename stem for uploaded files)."""
    try:
        with warnings.catch_warnings():  # XHTML served as HTML parses fine with lxml's HTML parser
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
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
    boilerplate = _boilerplate(body)
    page = _Walker(boilerplate).run(body)
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is None:
        articles = soup.find_all("article")
        main = articles[0] if len(articles) == 1 else None
    if isinstance(main, Tag) and main is not body:
        focused = _Walker(boilerplate).run(main)
        if focused.words and focused.words >= MAIN_SHARE * page.words:
            return focused.sections, focused.first_h1 or page.first_h1
    return page.sections, page.first_h1


def _skip(tag: Tag, *, in_article: bool, boilerplate: set[int]) -> bool:
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
    return id(tag) in boilerplate


class _Counts:
    """Words, words inside links and links of one element, gathered bottom-up."""

    __slots__ = (
        "children",
        "has_main",
        "in_heading",
        "in_link",
        "link_words",
        "links",
        "pre",
        "tag",
        "words",
    )

    def __init__(self, tag: Tag, parent: _Counts | None) -> None:
        self.tag, self.children = tag, iter(tag.children)
        self.words = self.link_words = self.links = 0
        self.has_main = False
        self.in_link = tag.name == "a" or (parent is not None and parent.in_link)
        self.pre = tag.name == "pre" or (parent is not None and parent.pre)
        # A heading's own text is never chrome: Sphinx wraps FAQ questions in a link back to
        # the page's contents (<h3><a class="toc-backref">What is Python?</a></h3>).
        self.in_heading = tag.name in HEADINGS or (parent is not None and parent.in_heading)


def _boilerplate(root: Tag) -> set[int]:
    """ids of elements to drop whole: small forms and banners, navigation chrome named by its
    class or id, and link-dense blocks; none holding main/article. One bottom-up pass, so nested
    wrappers cannot make this quadratic."""
    dropped: set[int] = set()
    stack = [_Counts(root, None)]
    while stack:
        frame = stack[-1]
        child = next(frame.children, None)
        if isinstance(child, Tag):
            stack.append(_Counts(child, frame))
        elif isinstance(child, NavigableString):
            if not isinstance(child, _SKIP_STRINGS):
                words = len(_WORD.findall(child))
                frame.words += words
                frame.link_words += words if frame.in_link and not frame.pre else 0
        elif child is None:
            stack.pop()
            if not frame.has_main and frame.tag.name not in PROTECTED and _is_boilerplate(frame):
                dropped.add(id(frame.tag))
            if stack:
                parent = stack[-1]
                parent.words += frame.words
                parent.link_words += frame.link_words
                parent.links += frame.links + (frame.tag.name == "a" and frame.tag.has_attr("href"))
                parent.has_main = (
                    parent.has_main or frame.has_main or frame.tag.name in ("main", "article")
                )
    return dropped


def _is_boilerplate(counts: _Counts) -> bool:
    tag = counts.tag
    if counts.in_heading:
        return False
    small = counts.words <= SMALL_JUNK_WORDS
    link_share = counts.link_words / counts.words if counts.words else 0.0
    if small and (tag.name == "form" or _looks_like_banner(tag)):
        return True
    if _marker_tokens(tag) & CHROME_TOKENS and (small or link_share >= 0.5):
        return True
    return (
        tag.name in LINK_BLOCKS
        and not counts.pre
        and counts.links >= LINK_BLOCK_LINKS
        and link_share >= LINK_SHARE
    )


def _marker_tokens(tag: Tag) -> set[str]:
    classes = tag.get("class") or []
    marker = " ".join([str(tag.get("id", "")), *map(str, classes)]).lower()
    return set(_TOKEN_SPLIT.split(marker))


def _looks_like_banner(tag: Tag) -> bool:
    classes = tag.get("class") or []
    marker = " ".join([str(tag.get("id", "")), *map(str, classes)]).lower()
    return any(word in marker for word in JUNK_MARKERS)


class _Verbatim(str):
    """A <pre> block's text: kept as is by _end_section (no whitespace folding)."""


class _Walker:
    """Turns a subtree into sections: blocks become lines, headings start new sections."""

    def __init__(self, boilerplate: set[int]) -> None:
        self._boilerplate = boilerplate
        self.sections: list[Section] = []
        self.first_h1 = ""
        self.words = 0
        self._heading = ""
        self._lines: list[str] = []
        self._inline: list[str] = []
        self._heading_parts: list[str] | None = None  # set while inside h1-h6
        self._heading_depth = 0
        self._pre_parts: list[str] | None = None  # set while inside <pre>
        self._pre_depth = 0
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
                skip = _skip(child, in_article=self._article > 0, boilerplate=self._boilerplate)
                if not skip:
                    self._enter(child)
                    stack.append((child, iter(child.children)))
            elif isinstance(child, NavigableString) and not isinstance(child, _SKIP_STRINGS):
                self._text(str(child))
        self._end_section()
        return self

    def _text(self, text: str) -> None:
        if self._pre_parts is not None:
            self._pre_parts.append(text)
            return
        text = _WHITESPACE.sub(" ", text.replace(_PILCROW, ""))
        target = self._heading_parts if self._heading_parts is not None else self._inline
        target.append(text)

    def _enter(self, tag: Tag) -> None:
        name = tag.name
        if name in ("article", "main"):
            self._article += 1
        if self._pre_parts is not None:  # markup inside <pre> (highlighting spans) adds nothing
            self._pre_depth += name == "pre"
            return
        if name == "pre":
            self._paragraph_break()
            self._pre_parts, self._pre_depth = [], 1
        elif name in HEADINGS:
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
        if self._pre_parts is not None:
            self._pre_depth -= name == "pre"
            if self._pre_depth == 0:
                block = verbatim_block("".join(self._pre_parts))
                self._pre_parts = None
                if block:
                    self._lines += [_Verbatim(block), ""]
            return
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
        """Folded prose and verbatim <pre> blocks, paragraphs separated by one blank line."""
        self._end_line()
        blocks: list[str] = []
        prose: list[str] = []
        for line in [*self._lines, _Verbatim("")]:
            if not isinstance(line, _Verbatim):
                prose.append(line)
                continue
            blocks.append(drop_chrome_lines(normalize_text("\n".join(prose))))
            blocks.append(line)
            prose.clear()
        self._lines.clear()
        text = "\n\n".join(block for block in blocks if block)
        if text:
            self.sections.append(Section(text=text, heading=self._heading))
            self.words += len(text.split())
