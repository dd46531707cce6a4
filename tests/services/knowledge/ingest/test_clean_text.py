"""Clean text at ingestion: documentation chrome out of HTML, code kept verbatim, PDF line wraps
and hyphenation joined into sentences, running headers, footers and page numbers dropped.
Real HTML documents and real PDFs (laid out line by line with fpdf2) are extracted as uploads."""

from __future__ import annotations

from chatapp.services.knowledge.ingest.chunk import chunk_document
from chatapp.services.knowledge.ingest.extract import extract_file, extract_html
from chatapp.services.knowledge.ingest.extract_common import is_chrome_line
from tests.services.knowledge.ingest import files

LIMIT = 10 * 1024 * 1024

# A page as Sphinx and DocBook generate them: global nav, sidebar with a local TOC, permalinks,
# "Prev | Next" bars, and a trailer.
DOC_PAGE = """<!DOCTYPE html>
<html><head><title>Undoing changes - Shop manual</title></head><body>
<div id="global-nav"><a href="index.html">Home</a> | <a href="contents.html">Table of contents</a>
  | <a href="genindex.html">Index</a> | <a href="py-modindex.html">Modules</a></div>
<div class="navheader"><table><tr><td><a href="a.html">Prev</a></td><td>Chapter 4</td>
  <td><a href="c.html">Next</a></td></tr></table></div>
<div class="document">
<div class="toc"><p><b>Table of Contents</b></p><dl>
  <dt><a href="#s1">4.1. How do I undo a commit?</a></dt>
  <dt><a href="#s2">4.2. How do I drop local edits?</a></dt>
  <dt><a href="#s3">4.3. How do I recover a branch?</a></dt></dl></div>
<div class="contents topic"><ul>
  <li><a href="#s1">Undo a commit</a></li><li><a href="#s2">Drop local edits</a></li>
  <li><a href="#s3">Recover a branch</a></li></ul></div>
<h2 id="s1">4.1. How do I undo a commit?<a class="headerlink" href="#s1">\u00b6</a></h2>
<p>Reset the branch to the last committed state with <code>git reset --hard HEAD</code>,
  or press <kbd>Ctrl</kbd>+<kbd>Z</kbd> in the editor first; old shells call it <tt>undo</tt>.</p>
<p>See <a href="reset.html">the reset page</a> for the details of each mode.</p>
<pre>
int main(void)
{
    if (dirty) {
        reset();
    }
    return 0;
}
</pre>
<ul><li>Keep a backup
  of the branch.</li><li>Tell your team.</li></ul>
<table><tr><th>Mode</th><th>Keeps edits</th></tr><tr><td>soft</td><td>yes</td></tr></table>
<div class="sect1"><h2>GIT</h2><p>Part of the git(1) suite</p></div>
</div>
<div class="sphinxsidebar" role="navigation"><h3>Next topic</h3>
  <p><a href="c.html">Branches</a></p></div>
<div class="navfooter"><a href="a.html">Prev</a> | <a href="index.html">Up</a> |
  <a href="c.html">Next</a><br>Chapter 3. Commits | Home | Chapter 5. Branches</div>
<div id="footer"><div id="footer-text">Last updated 2024-05-31 00:35:55 UTC</div></div>
<div class="nav">&laquo; <a href="a.html">previous</a> | <a href="index.html">up</a> |
  <a href="c.html">next</a> &raquo;</div>
</body></html>"""

C_EXAMPLE = """int main(void)
{
    if (dirty) {
        reset();
    }
    return 0;
}"""


def _doc_text() -> str:
    return extract_file(DOC_PAGE.encode(), "undo.html", max_bytes=LIMIT).text


# --- HTML ---------------------------------------------------------------------------------------


def test_html_drops_navigation_toc_permalinks_and_trailers():
    text = _doc_text()
    for chrome in (
        "Prev",
        "Next",
        "previous",
        "Table of contents",
        "Table of Contents",
        "4.2. How do I drop local edits?",
        "Drop local edits",
        "Modules",
        "\u00b6",
        "Last updated",
        "Part of the git(1) suite",
        "Next topic",
        "Chapter 5",
    ):
        assert chrome not in text, chrome
    assert "Reset the branch to the last committed state" in text
    assert "See the reset page for the details of each mode." in text  # prose with a link stays


def test_html_headings_lose_their_permalink_mark():
    sections = extract_file(DOC_PAGE.encode(), "undo.html", max_bytes=LIMIT).sections
    assert sections[0].heading == "4.1. How do I undo a commit?"


def test_html_keeps_inline_code_in_its_sentence_and_pre_verbatim():
    text = _doc_text()
    assert (
        "Reset the branch to the last committed state with git reset --hard HEAD, "
        "or press Ctrl+Z in the editor first; old shells call it undo."
    ) in text
    assert f"\n\n{C_EXAMPLE}\n\n" in text  # indentation and line breaks as written


def test_html_lists_and_table_rows_stay_one_line_each():
    lines = _doc_text().split("\n")
    assert "- Keep a backup of the branch." in lines
    assert "- Tell your team." in lines
    assert "Mode | Keeps edits" in lines
    assert "soft | yes" in lines


def test_html_code_block_reaches_the_chunks_with_its_lines():
    document = extract_file(DOC_PAGE.encode(), "undo.html", max_bytes=LIMIT)
    joined = "\n".join(chunk.text for chunk in chunk_document(document))
    assert "{\n" in joined and "\n        reset();\n" in joined  # indentation kept in chunks
    assert "Prev" not in joined and "Table of" not in joined


def test_html_footer_class_on_a_big_content_wrapper_keeps_the_content():
    prose = " ".join(f"Sentence {n} about opening hours." for n in range(120))
    page = f'<html><body><div class="content has-footer"><p>{prose}</p></div></body></html>'
    assert "Sentence 119 about opening hours." in extract_html(page).text


def test_html_small_sidebar_of_links_goes_but_a_definition_list_of_links_stays():
    page = """<html><body>
    <ul><li><a href="/a">Pricing</a></li><li><a href="/b">Blog</a></li>
      <li><a href="/c">Jobs</a></li></ul>
    <dl><dt><a href="add.html">git-add(1)</a></dt><dd>Add file contents to the index.</dd>
    <dt><a href="mv.html">git-mv(1)</a></dt><dd>Move or rename a file or a directory.</dd>
    <dt><a href="rm.html">git-rm(1)</a></dt><dd>Remove files from the working tree.</dd></dl>
    </body></html>"""
    text = extract_html(page).text
    assert "Pricing" not in text
    assert "git-mv(1)\nMove or rename a file or a directory." in text


def test_chrome_lines_are_whole_lines_only():
    for line in ("« previous | up | next »", "Home | Table of contents | Index", "Back to top"):
        assert is_chrome_line(line), line
    for line in (
        "Turn to the next page for prices.",
        "Home",
        "Last updated prices are on the board.",
    ):
        assert not is_chrome_line(line), line


# --- PDF ----------------------------------------------------------------------------------------

WRAPPED = [
    "Gift vouchers can be bought in the shop or online and are valid for two years. The maximum",
    "voucher value we accept is 5,000 pounds, and vouchers cannot be exchanged for cash. Every",
    "voucher carries a code that the till checks before any purchase, so lost vouchers are blo-",
    "cked at once. The default weight value for the rental bikes in the booking system is",
    "2. Staff may raise it for heavy cargo bikes.",
    "Rules for returns:",
    "- bring the receipt",
    "- keep the original box and all the accessories that came with the bike in the same",
    "box, or the refund will be reduced.",
]


def _pdf_text(pages, **layout) -> list[str]:
    data = files.laid_out_pdf(pages, **layout)
    return [section.text for section in extract_file(data, "h.pdf", max_bytes=LIMIT).sections]


def test_pdf_line_wraps_are_joined_into_whole_sentences():
    (text,) = _pdf_text([WRAPPED])
    assert "The maximum voucher value we accept is 5,000 pounds, and vouchers cannot" in text
    assert "so lost vouchers are blocked at once." in text  # hyphenation undone
    assert "in the booking system is 2. Staff may raise it for heavy cargo bikes." in text


def test_pdf_bullets_and_short_lines_stay_lines():
    (text,) = _pdf_text([WRAPPED])
    lines = text.split("\n")
    assert "Rules for returns:" in lines
    assert "- bring the receipt" in lines
    assert (
        "- keep the original box and all the accessories that came with the bike in the same "
        "box, or the refund will be reduced."
    ) in lines


def test_pdf_running_headers_footers_and_page_numbers_are_dropped():
    pages = [
        [f"Chapter {n}: {topic}", f"Our {topic.lower()} rules apply to every shop we run."]
        for n, topic in enumerate(["Rentals", "Repairs", "Vouchers", "Returns"], start=1)
    ]
    texts = _pdf_text(pages, header="Acme Bikes - Staff Handbook 2026", numbered=True)
    assert len(texts) == 4
    for text in texts:
        assert "Staff Handbook" not in text
        assert "Page" not in text
    assert texts[2] == "Chapter 3: Vouchers\nOur vouchers rules apply to every shop we run."


def test_pdf_header_on_few_pages_is_kept():
    texts = _pdf_text([["Opening hours are 9 to 5."], ["Closed on Sundays."]], header="Acme")
    assert texts == ["Acme\nOpening hours are 9 to 5.", "Acme\nClosed on Sundays."]


def test_html_heading_text_inside_a_contents_backlink_is_kept():
    """Sphinx wraps each FAQ question in a link back to the page's contents: the question is
    the heading, not navigation (losing it took Python's FAQ retrieval from 1.00 to 0.45)."""
    page = """<html><body><div class="body">
    <div class="contents topic"><p class="topic-title">Contents</p><ul>
      <li><a class="reference internal" href="#what" id="id1">What is Python?</a></li>
      <li><a class="reference internal" href="#good" id="id2">What is it good for?</a></li>
      <li><a class="reference internal" href="#who" id="id3">Who made it?</a></li></ul></div>
    <section id="what"><h3><a class="toc-backref" href="#id1">What is Python?</a><a
      class="headerlink" href="#what" title="Permalink to this heading">\u00b6</a></h3>
    <p>Python is an interpreted, interactive, object-oriented programming language.</p>
    </section></div></body></html>"""
    document = extract_html(page)
    assert [s.heading for s in document.sections] == ["What is Python?"]
    assert "\u00b6" not in document.text and "Who made it?" not in document.text
