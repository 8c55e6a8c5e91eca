"""The README's tables of the rule language's fields and functions, written from their declarations.

    python -m payerpolicy.rules.readme README.md     # rewrite both tables in place
    python -m payerpolicy.rules.readme                # print them

(`python -m payerpolicy.diagnostic_codes README.md` writes the table of diagnostic codes the same way.)
"""

from __future__ import annotations

import sys

from payerpolicy.diagnostic_codes import rewrite_table
from payerpolicy.rules import builtins, fields

TABLES = (fields.markdown_table, builtins.markdown_table)


def main(argv: list[str]) -> None:
    for table in TABLES:
        if argv:
            rewrite_table(argv[0], table())
        else:
            print(table() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
