"""Quoting chosen units: each with what it needs to be read alone, verbatim, cited."""

from chatapp.services.chat.compose import quoting, sentences

MANUAL = """Massif is a heap profiler. It helps you make your programs use less memory.

It is possible to run Massif on any program. Note that Valgrind also reads options from:

--massif-out-file=<file>

When enabled, Massif writes its profile to file."""


def test_a_sentence_pointing_back_brings_the_one_before_it_in_its_paragraph():
    units = sentences.units(MANUAL)
    texts = [u.text for u in units]
    it_helps = texts.index("It helps you make your programs use less memory.")
    picked = quoting.with_context(units, [it_helps])
    assert [texts[p] for p in picked] == ["Massif is a heap profiler.", texts[it_helps]]


def test_an_impersonal_it_or_a_new_paragraph_brings_nothing():
    units = sentences.units(MANUAL)
    texts = [u.text for u in units]
    possible = texts.index("It is possible to run Massif on any program.")
    assert quoting.with_context(units, [possible]) == [possible]  # "It is possible": no referent
    assert not quoting.points_back(units[possible])


def test_a_description_brings_its_option_line_and_renders_it_as_code():
    units = sentences.units(MANUAL)
    texts = [u.text for u in units]
    described = texts.index("When enabled, Massif writes its profile to file.")
    text = quoting.render([(units, [described])])
    assert text == (
        "```\n--massif-out-file=<file>\n```\n\nWhen enabled, Massif writes its profile to file [1]."
    )


MAKE = """It's probably a bug in 'make'. Some, but not all, instances of version 3.79.1 have this \
bug. Try upgrading to a more recent version of 'make'. Unsetting CFLAGS may also help.

Another paragraph starts here. It has its own sentences."""


def test_one_sentence_between_two_chosen_of_a_paragraph_is_quoted_too():
    units = sentences.units(MAKE)
    texts = [u.text for u in units]
    first, third = (
        texts.index("It's probably a bug in 'make'."),
        texts.index("Try upgrading to a more recent version of 'make'."),
    )
    assert quoting.with_context(units, [first, third]) == [first, first + 1, third]
    last = texts.index("Unsetting CFLAGS may also help.")
    assert quoting.with_context(units, [first, last]) == [first, last]  # a wider gap stays
    other = texts.index("Another paragraph starts here.")
    assert other - last == 1
    assert quoting.with_context(units, [third, other]) == [third, other]  # not across paragraphs


CRASH = """2.3. | My program dies like this:

valgrind: m_mallocfree.c:248 (get_bszB_as_is): Assertion 'bszB_lo == bszB_hi' failed.

or like this:

valgrind: m_mallocfree.c:442 (mk_inuse_bszB): Assertion 'bszB != 0' failed.

or otherwise aborts or crashes in m_mallocfree.c.

Your program may trash Valgrind's low-level memory manager."""


def test_what_a_question_ending_with_a_colon_quotes_runs_to_the_answer():
    units = sentences.units(CRASH)
    texts = [u.text for u in units]
    assert units[0].kind == sentences.QUESTION
    last = quoting.quoted_by(units, 0)
    assert texts[last] == "or otherwise aborts or crashes in m_mallocfree.c."
    assert texts[last + 1].startswith("Your program may trash")
    plain = sentences.units("1.1. | How do you pronounce it?\n\nThe Val as in value.")
    assert quoting.quoted_by(plain, 0) is None  # a question that quotes nothing
