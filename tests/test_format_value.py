"""A worked-out value as a message shows it (`rules.builtins.format_value`): the quick ways for text, whole
numbers and amounts write what the long way writes, and a subclass still writes itself its own way."""

from __future__ import annotations

import datetime

import pytest

from payerpolicy.policy.files import WholeNumber
from payerpolicy.rules.builtins import format_value


class _Code(str):
    def __str__(self) -> str:
        return "code " + str.__str__(self)


class _Units(int):
    def __str__(self) -> str:
        return f"{int(self)} units"


class _Dollars(float):
    def __str__(self) -> str:
        return f"${float(self):.2f}"


@pytest.mark.parametrize(
    "value, shown",
    [
        ("97110", "97110"),
        ("", ""),
        ("vérifié", "vérifié"),
        (3, "3"),
        (-2, "-2"),
        (True, "True"),
        (WholeNumber(3000, "3_000"), "3000"),
        (2.0, "2"),
        (-0.0, "0"),
        (2310.4, "2310.4"),
        (1e20, "100000000000000000000"),
        (float("inf"), "inf"),
        (None, "(not given)"),
        (("GP", "KX"), "GP, KX"),
        ((), "(none)"),
        ([1, 2], "1, 2"),
        (datetime.date(2026, 3, 2), "2026-03-02"),
        (_Code("97110"), "code 97110"),
        (_Units(2), "2 units"),
        (_Dollars(5.5), "$5.50"),
        (_Dollars(5.0), "5"),  # a whole amount is written as a whole number, whatever its class
    ],
)
def test_a_value_is_shown_in_a_message_as_billing_specialists_read_it(value, shown):
    assert format_value(value) == shown
