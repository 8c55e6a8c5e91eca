"""Write decisions as they come, in the format asked for, and count them for the summary.

`payerpolicy check` streams: each decision is written as soon as it is made and then forgotten, so a run
over a very large file holds only the claims of its window. The summary is counted on the way.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, NamedTuple, TextIO

from payerpolicy._internal_error import NOT_A_BUG
from payerpolicy.decision import Decision
from payerpolicy.judge.failure import failed_decision
from payerpolicy.render.decision_json import decision_json
from payerpolicy.render.remit_835 import remit_segments
from payerpolicy.render.csv_rows import COLUMNS, csv_rows
from payerpolicy.render.text import at_risk, render_claim, render_summary, units_only_note

FORMATS = ("json", "text", "csv", "835")


class Rendered(NamedTuple):
    """A decision written out in one format, with what the run's summary and exit code count of it: made where
    the decision is made (a worker process of `check --jobs`), so that the parent only writes text."""

    text: str  # the decision as the format writes it, without what separates it from the one before
    status: str
    needs_fix: int
    units_only: int  # timed lines billed in units without minutes (the text report's note)
    at_risk: tuple[float, int, int]  # render.text.at_risk
    warned: bool  # a finding of severity warn (--fail-on warn)


class Renderer:
    """Turns a decision into its `Rendered` form in one format; pickled to worker processes by value."""

    def __init__(self, output_format: str, colour: bool = False):
        if output_format not in FORMATS:
            raise ValueError(f"format is one of {', '.join(FORMATS)}, not {output_format!r}")
        self.format, self.colour = output_format, colour

    def __call__(self, decision: Decision) -> Rendered:
        try:
            return self._rendered(decision)
        except NOT_A_BUG:
            raise
        except Exception as exc:  # a bug in a writer, met on this decision: the claim is reported as failed
            failed = failed_decision(decision.id, decision.policy, exc, decision.where, "writing out its decision")
            return self._rendered(failed)

    def _rendered(self, decision: Decision) -> Rendered:
        if self.format == "json":
            text = decision_json(decision)
        elif self.format == "text":
            text = render_claim(decision, self.colour) + "\n"
        elif self.format == "csv":
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(csv_rows(decision))
            text = buffer.getvalue()
        else:
            charges = {line.line: line.charge for line in decision.lines}
            text = "".join(segment + "\n" for segment in remit_segments(decision, charges))
        return Rendered(
            text,
            decision.status,
            decision.needs_fix,
            decision.extra.get("timed_units_only", 0),
            at_risk(decision),
            any(f.severity == "warn" for f in decision.findings),
        )


class DecisionWriter:
    def __init__(self, out: TextIO, output_format: str, colour: bool = False):
        self.out = out
        self.colour = colour  # the text report's status words in colour (the command line, on a terminal)
        self.format = output_format
        self.summary = {"claims": 0, "accepted": 0, "denied": 0, "needs_fix": 0, "errors": 0}
        self.render = Renderer(output_format, colour)
        self.units_only = 0  # timed lines billed in units without minutes: one note for the run (text)
        self.at_risk = [0.0, 0, 0]  # the text report's total: charges of denied lines, those lines, uncharged ones
        self.warned = False  # some decision has a finding of severity warn

    def start(self) -> None:
        if self.format == "json":
            self.out.write('{"claims": [')
        elif self.format == "csv":
            csv.writer(self.out, lineterminator="\n").writerow(COLUMNS)

    def write(self, decision: Decision) -> None:
        self.write_rendered(self.render(decision))

    def write_rendered(self, rendered: Rendered) -> None:
        """Write a decision already rendered in this writer's format (by `self.render`, or its copy in a worker)."""
        first = self.summary["claims"] == 0
        self._count(rendered)
        if self.format == "json":
            self.out.write(("\n  " if first else ",\n  ") + rendered.text)
        elif self.format == "text":
            self.out.write(rendered.text if first else "\n" + rendered.text)
        else:
            self.out.write(rendered.text)

    def finish(self) -> None:
        if self.format == "json":
            tail = "\n" if self.summary["claims"] else ""
            self.out.write(tail + '],\n "summary": ' + json.dumps(self.summary) + "}\n")
        elif self.format == "text":
            risk = (self.at_risk[0], int(self.at_risk[1]), int(self.at_risk[2]))
            self.out.write(("\n" if self.summary["claims"] else "") + render_summary(self.summary, risk) + "\n")
            if self.units_only:
                self.out.write(units_only_note(self.units_only) + "\n")

    def _count(self, rendered: Rendered) -> None:
        self.summary["claims"] += 1
        self.summary["errors" if rendered.status == "error" else rendered.status] += 1
        self.summary["needs_fix"] += rendered.needs_fix
        self.units_only += rendered.units_only
        self.warned = self.warned or rendered.warned
        for i, amount in enumerate(rendered.at_risk):
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
