"""Issue 20, points 9 and 10: messages in words a policy author or billing specialist knows."""
from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.diagnostics import PolicyError

_HEAD = 'policy:\n  payer: acme\n  name: Acme\n  version: "1"\n'


def _yaml_error(tmp_path, body: str):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "policy.yaml").write_text(_HEAD + body)
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(tmp_path / "acme")
    [d] = caught.value.diagnostics
    assert d.code == "E103"
    return d


@pytest.mark.parametrize("body, line, column, message, help_words", [
    # A key dedented by one space: PyYAML says "expected <block end>, but found '<block mapping start>'".
    ("settings:\n  a: 1\n b: 2\n", 7, 2, "this line is not lined up with the lines above it", "same column"),
    ("code_sets:\n  x:\n    - 97110\n   - 97112\n", 8, 4, "this list item is not lined up", "`-`"),
    ("a: 1\n---\nb: 2\n", 6, 1, "several YAML documents", "remove the `---`"),
    ("a: *nope\n", 5, 4, "refers to no `&name`", "write the value out"),
    ("a: 1\nb\nc: 2\n", 6, 1, "has no `:` after it", "`key: value`"),
    ('a: "\\q"\n', 5, 6, "a backslash in double quotes", "single quotes"),
    ("a: @x\n", 5, 4, "a value cannot start with this character", "quotes"),
    ("a: &\n", 5, 5, "must be followed by a name", "quotes"),
    # A quote left open is closed by the next line's first quote: the error is placed where it was opened.
    ('message: "not paid the same day: {line.code}\nsource: "acme 13"\n', 5, 10, "this quote is never closed",
     "same line"),
])
def test_yaml_mistakes_are_said_without_parser_words(tmp_path, body, line, column, message, help_words):
    d = _yaml_error(tmp_path, body)
    assert message in d.message and help_words in (d.help or "")
    assert (d.span.line, d.span.column) == (line, column)
    assert "<" not in d.message and "found '" not in d.message and "scalar" not in d.message
