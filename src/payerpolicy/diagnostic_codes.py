"""Every diagnostic code payerpolicy gives about a policy or case file, with what it means, in one place.

A code is stable: CI scripts and editors key on it. Each means one kind of mistake (its message says the
particulars). The README's table of codes is written from this one (`python -m payerpolicy.diagnostic_codes
README.md` rewrites it), and a test checks that every code the package emits is here and in the README.

E1xx reading files, E2xx the policy's shape, E3xx rule syntax, E4xx rule meaning, E5xx policy test cases,
W5xx warnings (the policy still loads).
"""

from __future__ import annotations

import os

CODES: dict[str, str] = {
    "E100": "no such policy: not a file or folder, not a shipped payer, or a folder with no policy files",
    "E101": "a file cannot be read (missing, or no permission)",
    "E102": "a file is not UTF-8 text",
    "E103": "a policy file is not valid YAML",
    "E104": "a key given twice in one mapping, or a YAML merge key (`<<`)",
    "E105": "a policy file too large to be a policy (large tables go in table files)",
    "E106": "a policy file nested too deeply",
    "E107": "a policy file that makes too many values (YAML aliases repeated inside each other)",
    "E201": "an unknown key (usually a typo) or a name that cannot be used",
    "E202": "a required key is missing",
    "E203": "a value that is not allowed here (wrong type, not a real date, not one of the choices)",
    "E204": "no file of the policy folder has a `policy:` section",
    "E205": "a section that a policy has once is given twice",
    "E206": "a code set defined twice",
    "E207": "a rule or row id used twice",
    "E208": "a row of a table file (code pairs, unit caps, fee status) is wrong",
    "E209": "a compliance or advisory rule gives remittance codes (`reason`): only payer edits carry them",
    "E210": "`fee_status` rules without a `fee_status_table:`",
    "E211": "a table file named by a path outside the policy's folder",
    "E212": "a fee schedule table with no fee for the policy's carrier and locality",
    "E301": "a condition, fix or message holds text that cannot stand there",
    "E302": "a condition or fix stops too soon",
    "E303": "unexpected text in a condition, fix or message",
    "E304": "a date in a rule that is not a real date",
    "E305": "unbalanced braces in a message",
    "E306": "a condition, value or fix nested too deeply (the limit is 50 levels; chains of `and` or `or` are one)",
    "E401": "an unknown field, or a field that cannot be totalled",
    "E402": "an unknown code set",
    "E403": "a value of the wrong kind: values of different kinds compared or added, a code set or range of "
    "the wrong kind, units set to something not a number",
    "E404": "an unknown function",
    "E405": "a rule that can never fire",
    "E406": "a procedure code or modifier that is not one",
    "E407": "a code set entry that is not a code, range, modifier or set, or a set that mixes kinds",
    "E408": "a list where one value is wanted, or `any of`/`all of` over something that is not a list",
    "E409": "a function given the wrong number or kind of values",
    "E410": "`remove:` names a rule the base policy does not have",
    "E411": "policies extend each other in a circle",
    "E412": "`remove:` in a policy without `extends:`",
    "E413": "`value(...)` names a value the policy does not define",
    "E501": "a policy test case names no policy",
    "E502": "a policy test case's claim file does not exist",
    "W501": "a rule with no `codes:` is judged on every line (write `codes: any` when that is meant)",
    "W502": "an override identical to the base policy's rule",
    "W503": "a rule named like the base policy's rules that replaces none of them",
    "W504": "two daily caps on one code in force at once",
}


def explain(code: str) -> str | None:
    return CODES.get(code.upper())


def markdown_table() -> str:
    """The README's table of codes."""
    rows = ["| code | what it means |", "|---|---|"]
    rows += [f"| {code} | {text} |" for code, text in CODES.items()]
    return "\n".join(rows)


def rewrite_readme(path: str | os.PathLike[str]) -> None:
    """Put the current table in place of the README's (`python -m payerpolicy.diagnostic_codes README.md`)."""
    rewrite_table(path, markdown_table())


def rewrite_table(path: str | os.PathLike[str], table: str) -> None:
    """Put `table` in place of the README's table that has the same header row (its first line)."""
    from pathlib import Path

    text = Path(path).read_text(encoding="utf-8")
    start = text.index(table.split("\n", 1)[0])
    end = text.index("\n\n", start)
    Path(path).write_text(text[:start] + table + text[end:], encoding="utf-8")


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:
        rewrite_readme(sys.argv[1])
    else:
        print(markdown_table())
