"""Telling a bug in payerpolicy from bad input or a failing machine, and saying where it is without patient data.

The readers, the judge and the decision writer catch an exception they did not expect on one claim, report
that claim as failed (the readers: `claims.reading.failed_reading`; the judge and the writer:
`judge.failure`) and go on with the rest. What the
machine did (a full disk, a history file made read-only, no memory left) is not one claim's fault: it still
stops the run, which says so.

A report never quotes the exception's text, which can hold the claim's values (patient data): it names the
kind of exception and the last place in payerpolicy's code it passed through, which is what a maintainer
needs beside the claim.
"""

from __future__ import annotations

import os
import sqlite3
import traceback

__all__ = ["FIELD", "NOT_A_BUG", "REPORT", "reading_failed", "where_it_failed"]

# The `field` of a failed claim's error: no field of the claim is at fault.
FIELD = "payerpolicy"
# Failures of the machine, not of payerpolicy's code, which stop the run (the claim history fails with
# sqlite3 errors and OSErrors).
NOT_A_BUG = (OSError, sqlite3.Error, MemoryError)
REPORT = "please report it to the payerpolicy maintainers with this claim"

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def where_it_failed(exc: BaseException) -> str:
    """The exception's kind and the last place in payerpolicy's own code it passed through, as "KeyError in
    judge/judge.py line 412"; a policy's compiled rules (code with no file) are named as such."""
    place = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        filename = os.path.abspath(frame.filename)
        if filename.startswith(_PACKAGE + os.sep):
            place = f"{os.path.relpath(filename, _PACKAGE)} line {frame.lineno}"
        elif frame.filename.startswith("<"):  # compiled from a policy: its name is no file
            place = "the policy's compiled rules"
    return f"{type(exc).__name__} in {place}" if place else type(exc).__name__


def reading_failed(exc: BaseException) -> str:
    """What a claim that payerpolicy failed to read is sent back with (a reader's bug, not the claim's fault)."""
    return (
        f"payerpolicy failed while reading this claim ({where_it_failed(exc)}). This is a bug in payerpolicy; "
        f"the claim may well be right, and the run went on; {REPORT}"
    )
