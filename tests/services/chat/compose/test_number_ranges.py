"""A question's number inside a range the owner's text gives counts as found."""

import pytest

from chatapp.services.chat.compose import number_ranges


def test_the_numbers_of_a_question_as_written():
    asked = "I am 178 cm tall and 1.92 m with shoes, my daughter is 10, call 0113-496"
    assert {"178", "1.92", "10"} <= number_ranges.numbers(asked)
    assert number_ranges.numbers("What are your opening hours?") == set()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("| 174-181 cm | 56 cm (M) |", {"178"}),
        ("| 174\u2013181 cm | 56 cm (M) |", {"178"}),
        ("riders between 170 cm and 183 cm a medium", {"178"}),
        ("A child aged 8 to 11 usually rides a 24-inch wheel", {"10"}),
        ("Vouchers between \u00a3100 and \u00a3200 are sold in the shop", {"178"}),
        ("| 160-167 cm | 51 cm (XS) |", set()),  # another row's values
        ("Updated on 2026-12-07.", set()),  # a date is not a range
        ("We open from 9am to 6pm.", set()),  # nor is a time span holding none of them
    ],
)
def test_a_value_inside_a_range_is_found_and_only_then(text, found):
    assert number_ranges.within({"178", "10"}, text) == found


def test_no_value_finds_nothing():
    assert number_ranges.within(set(), "| 174-181 cm | 56 cm (M) |") == set()
