"""Write decisions as they come, in the format asked for, and count them for the summary.

`payerpolicy check` streams: each decision is written as soon as it is made and then forgotten, so a run
over a very large file holds only the claims of its window. The summary is counted on the way.
"""

from __future__ import annotations

import csv
import json
from typing import Iterable, TextIO

from payerpolicy.decision import Decision
from payerpolicy.render.decision_json import decision_json
from payerpolicy.render.remit_835 import remit_segments
from payerpolicy.render.csv_rows import COLUMNS, csv_rows
from payerpolicy.render.text import at_risk, render_claim, render_summary, units_only_note

FORMATS = ("json", "text", "csv", "835")


class DecisionWriter:
    def __init__(self, out: TextIO, output_format: str, colour: bool = False):
        self.out = out
        self.colour = colour  # the text report's status words in colour (the command line, on a terminal)
        self.format = output_format
        self.summary = {"claims": 0, "accepted": 0, "denied": 0, "needs_fix": 0, "errors": 0}
        self.csv = csv.writer(out, lineterminator="\n") if output_format == "csv" else None
        self.units_only = 0  # timed lines billed in units without minutes: one note for the run (text)
        self.at_risk = [0.0, 0, 0]  # the text report's total: charges of denied lines, those lines, uncharged ones

    def start(self) -> None:
        if self.format == "json":
            self.out.write('{"claims": [')
        elif self.csv is not None:
            self.csv.writerow(COLUMNS)

    def write(self, decision: Decision) -> None:
        first = self.summary["claims"] == 0
        self._count(decision)
        if self.format == "json":
            self.out.write(("\n  " if first else ",\n  ") + decision_json(decision))
        elif self.format == "text":
            self.out.write(("" if first else "\n") + render_claim(decision, self.colour) + "\n")
        elif self.csv is not None:
            self.csv.writerows(csv_rows(decision))
        else:
            charges = {line.line: line.charge for line in decision.lines}
            for segment in remit_segments(decision, charges):
                self.out.write(segment + "\n")

    def finish(self) -> None:
        if self.format == "json":
            tail = "\n" if self.summary["claims"] else ""
            self.out.write(tail + '],\n "summary": ' + json.dumps(self.summary) + "}\n")
        elif self.format == "text":
            risk = (self.at_risk[0], int(self.at_risk[1]), int(self.at_risk[2]))
            self.out.write(("\n" if self.summary["claims"] else "") + render_summary(self.summary, risk) + "\n")
            if self.units_only:
                self.out.write(units_only_note(self.units_only) + "\n")

    def _count(self, decision: Decision) -> None:
        self.summary["claims"] += 1
        self.summary["errors" if decision.status == "error" else decision.status] += 1
        self.summary["needs_fix"] += decision.needs_fix
        self.units_only += decision.extra.get("timed_units_only", 0)
        for i, amount in enumerate(at_risk(decision)):
            self.at_risk[i] += amount

    @property
    def all_accepted(self) -> bool:
        return self.summary["claims"] == self.summary["accepted"]


def write_decisions(decisions: Iterable[Decision], out: TextIO, format: str = "json") -> dict[str, int]:
    """Write decisions as `payerpolicy check --format FORMAT` does (json, text, csv or 835), streaming,
    and return the run's summary (claims, accepted, denied, needs_fix, errors)."""
    if format not in FORMATS:
        raise ValueError(f"format is one of {', '.join(FORMATS)}, not {format!r}")
    writer = DecisionWriter(out, format)
    writer.start()
    for decision in decisions:
        writer.write(decision)
    writer.finish()
    return dict(writer.summary)
