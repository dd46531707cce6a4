"""Quoting chosen units: each with what it needs to be read alone, verbatim, cited."""

from chatapp.services import quoting, sentences

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
