"""The sentence splitter behind offline answers: a unit is never a fragment of the owner's text."""

import pytest

from chatapp.services.chat.compose.sentences import (
    CODE,
    HEADING,
    ITEM,
    LINE,
    QUESTION,
    ROW,
    SENTENCE,
    split,
    units,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "This FAQ was first maintained by J.H.M. Dekker. Authors of the Debian FAQ are "
            "Susan G. Kleinmann and Sven Rudolph. After them, Santiago Vila maintained it.",
            [
                "This FAQ was first maintained by J.H.M. Dekker.",
                "Authors of the Debian FAQ are Susan G. Kleinmann and Sven Rudolph.",
                "After them, Santiago Vila maintained it.",
            ],
        ),
        (
            "Use an editor, e.g. Vim, i.e. a modal one. Then save.",
            ["Use an editor, e.g. Vim, i.e. a modal one.", "Then save."],
        ),
        (
            "We sell bikes, locks etc. The shop is in Lyon.",
            ["We sell bikes, locks etc.", "The shop is in Lyon."],
        ),
        (
            "Dr. Smith and Mr. Jones compare Python vs. Ruby. Call us.",
            ["Dr. Smith and Mr. Jones compare Python vs. Ruby.", "Call us."],
        ),
        ("Pi is about 3.14 here. Use more digits.", ["Pi is about 3.14 here.", "Use more digits."]),
        (
            "Upgrade to 2.0.1 since v1.2. Older releases need a patch.",
            ["Upgrade to 2.0.1 since v1.2.", "Older releases need a patch."],
        ),
        (
            "See https://example.com/docs/index.html for details. Edit config.yaml. "
            "Read README.md. Restart.",
            [
                "See https://example.com/docs/index.html for details.",
                "Edit config.yaml.",
                "Read README.md.",
                "Restart.",
            ],
        ),
        (
            "Run `git reset --hard HEAD. Then` carefully. It discards changes.",
            ["Run `git reset --hard HEAD. Then` carefully.", "It discards changes."],
        ),
        (
            "It closes at 6 p.m. Sundays are closed. Is it free? Yes!",
            ["It closes at 6 p.m.", "Sundays are closed.", "Is it free?", "Yes!"],
        ),
        ("Made in the U.S. by Acme. We ship.", ["Made in the U.S. by Acme.", "We ship."]),
    ],
)
def test_split_keeps_abbreviations_initials_numbers_and_code_whole(text, expected):
    assert split(text) == expected


def test_pdf_text_with_line_wraps_is_joined_into_whole_sentences():
    text = (
        "Gift vouchers\n"
        "The maximum\n"
        "voucher value we accept is \u00a35,000. Vouchers are valid for one year and\n"
        "cannot be exchanged for cash."
    )
    assert [(u.kind, u.text) for u in units(text)] == [
        (HEADING, "Gift vouchers"),
        (SENTENCE, "The maximum voucher value we accept is \u00a35,000."),
        (SENTENCE, "Vouchers are valid for one year and cannot be exchanged for cash."),
    ]


def test_html_paragraphs_keep_inline_code_and_pre_lines_as_one_block():
    text = (
        "To undo your changes, reset the tree to the last committed state with "
        "`git reset --hard`. This discards every uncommitted change.\n\n"
        "Run the following command:\n\n"
        "$ git reset --hard HEAD\n$ git status"
    )
    assert [(u.kind, u.text) for u in units(text)] == [
        (
            SENTENCE,
            "To undo your changes, reset the tree to the last committed state with "
            "`git reset --hard`.",
        ),
        (SENTENCE, "This discards every uncommitted change."),
        (SENTENCE, "Run the following command:"),
        (CODE, "$ git reset --hard HEAD\n$ git status"),
    ]


def test_list_items_table_rows_and_fenced_code_are_units():
    text = (
        "Supported formats:\n- PDF files up to 20 MB\n- Word documents (.docx)\n  and templates\n\n"
        "| Name | Price |\n|---|---|\n| Helmet | \u00a335 |\n\n"
        "```python\nx = 1\n\nprint(x)\n```\nThat prints 1."
    )
    assert [(u.kind, u.text) for u in units(text)] == [
        (SENTENCE, "Supported formats:"),
        (ITEM, "PDF files up to 20 MB"),
        (ITEM, "Word documents (.docx) and templates"),
        (ROW, "| Name | Price |"),
        (ROW, "| Helmet | \u00a335 |"),
        (CODE, "```python\nx = 1\n\nprint(x)\n```"),
        (SENTENCE, "That prints 1."),
    ]


def test_faq_questions_are_marked_as_questions_not_answers():
    found = units("How do I reset my password?\nOpen Settings and choose Reset password.")
    assert [u.kind for u in found] == [QUESTION, SENTENCE]


def test_a_single_short_line_is_a_sentence_not_a_heading():
    assert [u.kind for u in units("Free shipping over 50 euros")] == [SENTENCE]


def test_short_lines_after_a_lead_in_are_the_list_it_announces_not_headings():
    """HTML list items lose their bullets in clean text: after "...three places:" the short
    lines are that list; a short line after ordinary prose is still a heading."""
    text = (
        "Setting default options\n\n"
        "Note that Valgrind also reads options from three places:\n\n"
        "The file ~/.valgrindrc\n\nThe environment variable $VALGRIND_OPTS\n\n"
        "The file ./.valgrindrc\n\n"
        "These are processed in the given order.\n\nDynamically changing options\n\n"
        "Some options can be changed while the program runs."
    )
    assert [(u.kind, u.text) for u in units(text)] == [
        (HEADING, "Setting default options"),
        (SENTENCE, "Note that Valgrind also reads options from three places:"),
        (LINE, "The file ~/.valgrindrc"),
        (LINE, "The environment variable $VALGRIND_OPTS"),
        (LINE, "The file ./.valgrindrc"),
        (SENTENCE, "These are processed in the given order."),
        (HEADING, "Dynamically changing options"),
        (SENTENCE, "Some options can be changed while the program runs."),
    ]


def test_command_lines_of_one_pre_block_stay_one_code_unit():
    """A `<pre>` block's lines arrive without a blank line between them: a command-like line
    right after code, or after a shell continuation, is more of that code; prose after it is not."""
    install = units(
        "Install it with pip:\n\npip install ledgerly-cli\nledgerly --version\n"
        "On macOS you can also use Homebrew."
    )
    assert [(u.kind, u.text) for u in install] == [
        (SENTENCE, "Install it with pip:"),
        (CODE, "pip install ledgerly-cli\nledgerly --version"),
        (SENTENCE, "On macOS you can also use Homebrew."),
    ]
    create = units(
        "ledgerly invoices create --customer cus_812 \\\n"
        '    --item "Consulting, 10 hours" --amount 1200.00\n'
        "ledgerly invoices send INV-2026-0042"
    )
    assert [u.kind for u in create] == [CODE]
    assert create[0].text.endswith("ledgerly invoices send INV-2026-0042")
