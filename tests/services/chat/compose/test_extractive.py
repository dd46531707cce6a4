"""Offline answers on real-looking text: whole sentences only, on the question, Q&A pairs whole."""

import re
import zlib

import pytest

from chatapp.services.chat.compose import extractive
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.retrieval import Passage

DEBIAN = (
    "The Debian FAQ\n\n"
    "This document was first maintained by J.H.M. Dekker in 1996. Authors of the Debian FAQ "
    "are Susan G. Kleinmann and Sven Rudolph. After them, the FAQ was maintained by Santiago "
    "Vila and, later, by Josip Rodin."
)
VOUCHERS = (  # PDF text, line wraps already joined by extraction or still present
    "Gift vouchers\n"
    "The maximum\n"
    "voucher value we accept is \u00a35,000. We also repair e-bikes of every brand in our "
    "workshop."
)
GIT = (
    "To undo your local changes, reset the working tree to the last committed state with "
    "`git reset --hard`. Untracked files are kept.\n\n"
    "Install the hook with pip:\n\n"
    "$ pip install pre-commit\n$ pre-commit install"
)
HOURS = (
    "Opening hours\n\n"
    "Our shop in Lyon is open Monday to Friday from 9am to 6pm. On Saturdays we open from "
    "10am to 4pm. Our mechanics also fit child seats and mudguards."
)
PAIR_Q = "Do you ship to Canada?"
PAIR_A = "Yes, we ship to Canada in 5 to 8 days.\nCustoms fees are paid by the buyer."


def passage(n, text, title, kind="file", heading=""):
    chunk_id = f"chunk-{zlib.crc32(text.encode())}"  # as stored: a new text has a new chunk id
    return Passage(chunk_id, n, kind, text, title, heading, None, "", "", 0.5, 0.5, 1.0)


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


def answer(question, passages, embedder, **extra):
    return extractive.compose(question, passages, embedder=embedder, **extra)


def sentences_of(text):
    """The answer's prose sentences without citation markers, whitespace normalised."""
    text = re.sub(r"\s*\[\d+\]", "", text)
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(text.split())) if s]


def assert_verbatim(extract, sources):
    normalised = " ".join(" ".join(p.text for p in sources).split())
    for sentence in sentences_of(extract.text):
        assert sentence in normalised, sentence


def test_initials_do_not_cut_the_answer(embedder):
    source = passage(1, DEBIAN, "Debian FAQ")
    extract = answer("Who are the authors of the Debian FAQ?", [source], embedder)
    assert "are Susan G. Kleinmann and Sven Rudolph [1]." in extract.text
    assert "Susan G. [1]" not in extract.text and "J.H.M. [1]" not in extract.text
    assert_verbatim(extract, [source])


def test_a_wrapped_pdf_sentence_is_whole_and_the_off_topic_one_is_left_out(embedder):
    source = passage(1, VOUCHERS, "Handbook")
    extract = answer("What is the maximum voucher value?", [source], embedder)
    assert extract.text == "The maximum voucher value we accept is \u00a35,000 [1]."
    assert extract.passages == [source]


def test_inline_code_and_a_code_block_are_kept(embedder):
    docs = passage(1, GIT, "Help centre", kind="url")
    undo = answer("How do I undo my local changes?", [docs], embedder)
    assert "with `git reset --hard`" in undo.text
    assert_verbatim(undo, [docs])
    hook = answer("How do I install the hook?", [docs], embedder)
    assert "Install the hook with pip:" in hook.text
    assert "```\n$ pip install pre-commit\n$ pre-commit install\n```" in hook.text


def test_headings_are_not_answers_and_unrelated_sentences_stay_out(embedder):
    hours, other = passage(1, HOURS, "Hours"), passage(2, VOUCHERS, "Handbook")
    extract = answer("When are you open on Saturday?", [hours, other], embedder)
    assert extract.text == "On Saturdays we open from 10am to 4pm [1]."
    assert extract.passages == [hours]
    week = answer("What are your opening hours?", [hours, other], embedder)
    assert "Monday to Friday from 9am to 6pm" in week.text
    assert "Opening hours" not in week.text and "mechanics" not in week.text
    assert "repair" not in week.text


def test_a_matching_qa_pair_answers_with_its_whole_answer(embedder):
    pair = passage(3, f"{PAIR_Q}\n{PAIR_A}", PAIR_Q, kind="qa", heading=PAIR_Q)
    hours = passage(1, HOURS, "Hours")
    extract = answer("do you deliver to canada", [hours, pair], embedder)
    assert extract.text == f"{PAIR_A[:-1]} [1]."
    assert extract.passages == [pair]


def test_a_qa_pair_about_something_else_is_not_its_answer(embedder):
    pair = passage(3, f"{PAIR_Q}\n{PAIR_A}", PAIR_Q, kind="qa", heading=PAIR_Q)
    extract = answer("Do you ship to Mexico?", [pair], embedder)
    assert extract is None or "Customs fees" not in extract.text


def test_nothing_about_the_question_gives_none(embedder):
    sources = [passage(1, HOURS, "Hours"), passage(2, DEBIAN, "Debian FAQ")]
    assert answer("What is the capital of Peru?", sources, embedder) is None
    assert answer("anything", [], embedder) is None


def test_without_an_embedder_words_alone_pick_whole_sentences():
    source = passage(1, VOUCHERS, "Handbook")
    extract = extractive.compose("maximum voucher value", [source])
    assert extract.text == "The maximum voucher value we accept is \u00a35,000 [1]."


def test_exports_other_modules_use():
    assert "the" in extractive.STOPWORDS
    assert extractive.content_terms("Opening hours") == {"open", "hour"}
    assert extractive.word_chunks("a b") == ["a ", "b"]
    assert extractive.small_talk("hello", welcome="Hi!") == "Hi!"


FAQ_PAGE = """1.1. | How do you pronounce "Valgrind"?

The "Val" as in the word "value". The "grind" is pronounced with a short 'i'.

Don't feel bad: almost everyone gets it wrong at first.

1.2. | Where does the name "Valgrind" come from?

From Nordic mythology. Valgrind is the name of the main entrance to Valhalla."""


def test_an_faq_question_in_a_document_is_answered_by_what_follows_it(embedder):
    """The answer rarely resembles the question: found by the matching question line instead."""
    faq = passage(1, FAQ_PAGE, "Valgrind FAQ", heading="1. Background")
    extract = answer("How is Valgrind pronounced?", [faq], embedder)
    assert extract is not None and "value" in extract.text
    assert "Nordic" not in extract.text and "?" not in extract.text  # not the next entry
    assert extract.text.startswith('The "Val" as in the word "value".')


MANUAL = """Options that affect child processes:

--trace-children=<yes|no> [default: no]

When enabled, Valgrind will trace into sub-processes initiated via the exec system call.

--child-silent-after-fork=<yes|no> [default: no]

When enabled, Valgrind will not show any debugging output for the child process."""


def test_a_manuals_option_is_quoted_with_the_description_that_answers(embedder):
    """In a reference manual the option line names what the next sentence describes."""
    manual = passage(1, MANUAL, "Valgrind manual", heading="Core options")
    extract = answer("How do I make Valgrind trace into sub-processes?", [manual], embedder)
    assert extract is not None and "--trace-children=<yes|no>" in extract.text
    assert extract.text.index("--trace-children") < extract.text.index("When enabled")


TOOLS = """The Valgrind distribution includes several tools.

Memcheck is a memory error detector. It helps you make your programs more correct.

Massif is a heap profiler. It helps you make your programs use less memory."""


def test_a_sentence_that_points_back_is_quoted_with_the_one_it_points_to(embedder):
    """ "It helps you..." alone does not say what helps: the sentence before it names it."""
    tools = passage(1, TOOLS, "Valgrind manual", heading="Tools")
    extract = answer("Which tool helps me use less memory?", [tools], embedder)
    assert extract is not None
    assert "Massif is a heap profiler. It helps you make your programs use less memory" in (
        extract.text
    )
    assert not extract.text.startswith("It ")
    assert "Memcheck" not in extract.text


FREERES_1 = """4.1. | My program crashes at exit under Valgrind. Why?

When the program exits, Valgrind runs the procedure __libc_freeres in glibc. This is a hook for
memory debuggers, so they can ask glibc to free up any memory it has used. Doing that is needed
to ensure that Valgrind doesn't incorrectly report space leaks in glibc."""
FREERES_2 = """Doing that is needed to ensure that Valgrind doesn't incorrectly report space leaks
in glibc. The problem is that running __libc_freeres in older glibc versions causes this crash.
Some versions also print a warning first.

Workaround for 1.1.X and later versions of Valgrind: use the --run-libc-freeres=no option.

4.2. | My program uses the C++ STL. Why does Memcheck report leaks?

Memcheck reports blocks the STL keeps in its own pool."""


ASKED = "How do I stop my program crashing at exit under Valgrind?"


def faq_chunk(position, text):
    """A chunk of an FAQ page as ingest stores it: chunk ids are "source:position:digest"."""
    return Passage(
        f"7:{position}:{zlib.crc32(text.encode()):x}", 7, "url", text, "Valgrind FAQ",
        "4. Valgrind behaves unexpectedly", None, "", "", 0.5, 0.5, 1.0,
    )  # fmt: skip


def test_a_long_faq_answer_read_on_into_the_next_chunk_keeps_what_answers(embedder):
    """The answer runs past its chunk: the retrieved next chunk of the same page continues it
    (the overlap is not quoted twice), and its sentence that answers is kept, not only the
    first three."""
    first, second = faq_chunk(3, FREERES_1), faq_chunk(4, FREERES_2)
    extract = answer(ASKED, [first, second], embedder)
    assert extract is not None and "--run-libc-freeres=no" in extract.text
    assert extract.text.startswith("When the program exits")
    assert extract.text.count("Doing that is needed") <= 1
    assert "STL" not in extract.text  # the next entry is not part of the answer
    assert extract.passages == [first, second]
    alone = answer(ASKED, [first, faq_chunk(9, FREERES_2)], embedder)
    assert alone is not None and alone.passages[0] == first  # not the next chunk: not read on


CLI = """The ledgerly command-line tool runs on macOS, Linux and Windows.

Install it with pip:

pip install ledgerly-cli
ledgerly --version"""
UPDATE = "Run ledgerly self-update to install the latest version of the CLI."


def test_a_lead_in_is_scored_with_the_code_it_introduces(embedder):
    """ "Install it with pip:" says little alone; with its command it answers "how to install"."""
    install = passage(1, CLI, "Install the Ledgerly CLI", kind="url", heading="Install")
    update = passage(2, UPDATE, "Install the Ledgerly CLI", kind="url", heading="Update")
    extract = answer("How do I install the Ledgerly CLI?", [update, install], embedder)
    assert extract is not None
    assert "Install it with pip:\n```\npip install ledgerly-cli\nledgerly --version\n```" in (
        extract.text
    )
    assert "macOS" not in extract.text


JIT_1 = """3.3. | My program dies with an illegal instruction. Why?

Valgrind does not support every instruction set extension.

3.4. | I tried running a Java program under Valgrind but something went wrong. Does Valgrind \
handle such programs?

Valgrind can handle dynamically generated code, so long as none of the generated code is later \
overwritten by other generated code."""
JIT_3 = """Valgrind will run much more slowly, but should detect the use of the out-of-date code.

Apart from this, in theory Valgrind can run any Java program just fine, even those that use JNI \
and are partially implemented in other languages like C and C++."""


def test_an_faq_answer_cut_by_its_chunk_takes_what_answers_from_the_same_page(embedder):
    """The answer goes on in a chunk that was not retrieved (position 2 here): a later chunk of
    the same page that was retrieved (position 3) may hold the part that answers."""
    first, third = faq_chunk(1, JIT_1), faq_chunk(3, JIT_3)
    extract = answer("Can Valgrind run Java programs that use JNI?", [first, third], embedder)
    assert extract is not None
    assert extract.text.startswith("Valgrind can handle dynamically generated code")
    assert "even those that use JNI" in extract.text
    assert "illegal instruction" not in extract.text


SUPPRESSIONS = """Each location line names a function or an object.

A location line may also be simply "..." (three dots). This is a frame-level wildcard, which \
matches zero or more frames.

Frame level wildcards are useful because they make it easy to ignore varying numbers of \
uninteresting frames. A suppression only suppresses an error when the error matches all the \
details in the suppression. Locations may be given as object names too."""


def test_a_pointing_back_sentence_answers_by_itself_or_with_what_it_points_to(embedder):
    """ "This is a frame-level wildcard, which matches zero or more frames" answers "any number
    of frames" by itself: read with the sentence before it, it is still found, and quoted with
    it (the sentence that names what "this" is)."""
    manual = passage(1, SUPPRESSIONS, "Valgrind manual", heading="Suppressing errors")
    extract = answer("How do I match any number of frames in a suppression?", [manual], embedder)
    assert extract is not None
    assert 'A location line may also be simply "..." (three dots). This is a frame-level' in (
        extract.text
    )


TOOL_LIST = """Massif is a heap profiler. It helps you make your programs use less memory.

DHAT is a different kind of heap profiler. It helps you understand issues of block lifetimes, \
block utilisation, and layout inefficiencies.

Callgrind is a call-graph generating cache profiler. It has some overlap with Cachegrind."""


def test_a_pointing_back_sentence_is_scored_with_what_it_points_to(embedder):
    """ "It helps you understand issues of block lifetimes" says what DHAT is for only when read
    with "DHAT is a different kind of heap profiler" before it."""
    manual = passage(1, TOOL_LIST, "Valgrind manual", heading="Tools")
    extract = answer("What is DHAT for?", [manual], embedder)
    assert extract is not None
    assert extract.text == (
        "DHAT is a different kind of heap profiler. It helps you understand issues of block "
        "lifetimes, block utilisation, and layout inefficiencies [1]."
    )


SIZES = """Road and gravel bikes

| Rider height | Frame size |
|---|---|
| 160-167 cm | 51 cm (XS) |
| 167-174 cm | 54 cm (S) |
| 174-181 cm | 56 cm (M) |
| 181-188 cm | 58 cm (L) |"""


def test_the_table_row_holding_the_asked_value_is_quoted_under_its_header(embedder):
    """ "178 cm" is inside "174-181 cm": that row answers, with the header that says what its
    cells are; the rows for other heights do not."""
    guide = passage(1, SIZES, "Bike size guide", heading="Road and gravel bikes")
    extract = answer("What frame size should I get if I am 178 cm tall?", [guide], embedder)
    assert extract is not None
    assert "| Rider height | Frame size |\n| 174-181 cm | 56 cm (M) |" in extract.text
    assert "58 cm" not in extract.text and "54 cm" not in extract.text


INVOICES = """An invoice starts as a draft, which you can edit freely until you send it. Once an \
invoice is sent, its number and amounts are locked; to change them, issue a credit note and a \
new invoice.

Invoice numbers follow the pattern INV-{year}-{sequence}."""


def test_an_irregular_verb_form_matches_its_base_form(embedder):
    """ "sending" in the question and "sent" in the text are one word: the sentence saying what
    happens once an invoice is sent answers "after sending it"."""
    assert extractive.content_terms("it was sent") == extractive.content_terms("sending it")
    assert extractive.content_terms("we bought it") == extractive.content_terms("buy it")
    help_page = passage(1, INVOICES, "Invoices", kind="url", heading="Invoices")
    extract = answer("Can I edit an invoice after sending it?", [help_page], embedder)
    assert extract is not None and "issue a credit note" in extract.text
    assert "INV-{year}" not in extract.text


BUILD_FAQ = """2.1. | When building Valgrind, 'make' dies partway with an assertion failure:

It's probably a bug in 'make'. Try upgrading to a more recent version of 'make'.

2.2. | When building Valgrind, 'make' fails with this:

/usr/bin/ld: cannot find -lc collect2: ld returned 1 exit status

You need to install the glibc-static-devel package.

2.3. | My program dies like this:

valgrind: m_mallocfree.c:248 (get_bszB_as_is): Assertion 'bszB_lo == bszB_hi' failed.

or like this:

valgrind: m_mallocfree.c:442 (mk_inuse_bszB): Assertion 'bszB != 0' failed.

or otherwise aborts or crashes in m_mallocfree.c.

Your program may trash Valgrind's low-level memory manager. Fix the illegal memory accesses."""


def test_an_faq_question_is_matched_with_the_error_it_quotes_and_answered_after_it(embedder):
    """ "'make' fails with this:" says little alone; with the error it quotes it matches the
    visitor's "cannot find -lc" question, and the answer is what follows the quote."""
    faq = passage(1, BUILD_FAQ, "Valgrind FAQ", heading="2. Compiling, installing")
    lc = answer(
        'make fails with "cannot find -lc" when building Valgrind, what do I install?',
        [faq],
        embedder,
    )
    assert lc is not None
    assert lc.text == "You need to install the glibc-static-devel package [1]."
