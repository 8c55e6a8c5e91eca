"""Stage 1, read (fee schedule): the physician fee schedule a policy prices lines by (`fee_schedule_tables:`).

Each entry names an imported payment amount table (`payerpolicy tables import fees`), an imported RVU table
(`payerpolicy tables import rvu`) and the practice's carrier and locality:

    fee_schedule_tables:
      - fees: reference/fees-2026.csv     # fee per carrier, locality, code and modifier
        rvu: reference/rvu-2026.csv       # RVUs and the multiple procedure indicator, per code
        carrier: "01112"
        locality: "05"

Only the rows of the entry's carrier and locality are kept. An entry applies to the dates of service of its
fee table (its `# effective_from` / `# effective_to` lines, the import's quarter or dates): name one entry per
year or quarter to price several. The locality is the policy's, not the claim's: an 837P names no locality
(CMS derives it from the service ZIP code through its own ZIP-to-locality file, which is not read here), so a
practice sets its own in the policy it uses. Every mistake is reported with file:line:column, all at once.

What the tables are used for (the allowed amount of each line, MPPR, the assistant payment) is the evaluate
stage's: see `program.allowed_amounts`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from payerpolicy.policy import reference_table as reference
from payerpolicy.diagnostics import Diagnostic, SourceFiles

__all__ = ["FeeTables", "fee_tables"]


@dataclass
class FeeTables:
    """One entry of `fee_schedule_tables:`: the fees of one carrier and locality, and the RVUs, for the fee
    table's dates of service."""

    carrier: str
    locality: str
    first: datetime.date
    last: datetime.date
    label: str  # how a finding names it: "carrier 01112 locality 05, 2026Q1"
    # (code, modifier) -> (non-facility fee, facility fee); modifier "" for the code's own row
    fees: dict = field(default_factory=dict)
    # (code, modifier) -> (work RVU, non-facility PE RVU, facility PE RVU, MP RVU, multiple procedure indicator)
    rvus: dict = field(default_factory=dict)

    def covers(self, date: datetime.date) -> bool:
        return self.first <= date <= self.last

    def fee(self, code: str, modifiers: tuple) -> tuple | None:
        """A code's fee row: with one of the line's modifiers where the file has one (26, TC, 53), else the
        code's own. Therapy modifiers (GP, CQ, KX) have no rows of their own: the code's own row is used."""
        return _by_modifier(self.fees, code, modifiers)

    def rvu(self, code: str, modifiers: tuple) -> tuple | None:
        """A code's RVU row, found as its fee row is."""
        return _by_modifier(self.rvus, code, modifiers)


def _by_modifier(rows: dict, code: str, modifiers: tuple) -> tuple | None:
    for modifier in modifiers:
        found = rows.get((code, modifier))
        if found is not None:
            return found
    return rows.get((code, ""))


def _amount(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def fee_tables(
    entry: dict, paths: dict, at: dict, diagnostics: list[Diagnostic], sources: SourceFiles
) -> FeeTables | None:
    """The tables of one `fee_schedule_tables:` entry. `paths`: for `fees` and `rvu`, (file path, display
    name); `at`: the span of each key of the entry, where mistakes of the entry itself are reported."""
    carrier, locality = str(entry["carrier"]).strip(), str(entry["locality"]).strip()
    (fees_path, fees_name), (rvu_path, rvu_name) = paths["fees"], paths["rvu"]
    fees_file = reference.read_table_file(fees_path, fees_name, "fees", sources, diagnostics, at["fees"])
    rvu_file = reference.read_table_file(rvu_path, rvu_name, "rvu", sources, diagnostics, at["rvu"])
    if fees_file is None or rvu_file is None:
        return None
    quarter = fees_file.meta.get("quarter")
    label = f"carrier {carrier} locality {locality}" + (f", {quarter}" if quarter else "")
    tables = FeeTables(carrier, locality, fees_file.first_day, fees_file.last_day, label)
    bad = _read_fees(tables, fees_file, diagnostics, sources) + _read_rvus(tables, rvu_file, diagnostics, sources)
    if not tables.fees and not bad and not fees_file.mistakes:
        diagnostics.append(
            Diagnostic(
                "E212",
                f"`{fees_file.display}` has no fee for carrier {carrier} locality {locality}",
                at["locality"],
                "give the carrier and locality of the practice as the payment amount file writes them "
                "(carrier 01112, locality 05)",
            )
        )
        return None
    if bad or fees_file.mistakes or rvu_file.mistakes:
        return None
    return tables


def _read_fees(
    tables: FeeTables, fees_file: reference.TableFile, diagnostics: list[Diagnostic], sources: SourceFiles
) -> int:
    """The carrier and locality's fees from the payment amount file into `tables`; how many rows are bad."""
    carrier, locality = tables.carrier, tables.locality
    bad = 0
    for number, row in fees_file.rows:
        if row["carrier"].strip() != carrier or row["locality"].strip() != locality:
            continue
        code, modifier = row["code"].strip().upper(), row["modifier"].strip().upper()
        nonfacility, facility = _amount(row["nonfacility_fee"].strip()), _amount(row["facility_fee"].strip())
        if nonfacility is None or facility is None:
            bad += 1
            fees_file.cell_mistake(
                diagnostics,
                sources,
                f"the fees of {code} are not amounts of dollars",
                number,
                "import the payment amount file again: payerpolicy tables import fees",
            )
            continue
        tables.fees[(code, modifier)] = (nonfacility, facility)
    return bad


def _read_rvus(
    tables: FeeTables, rvu_file: reference.TableFile, diagnostics: list[Diagnostic], sources: SourceFiles
) -> int:
    """Each code's RVUs (work, PE non-facility, PE facility, MP) and multiple procedure indicator into
    `tables`; how many rows are bad."""
    bad = 0
    for number, row in rvu_file.rows:
        code, modifier = row["code"].strip().upper(), row.get("modifier", "").strip().upper()
        figures = [
            _amount(row.get(name, "").strip())
            for name in ("work_rvu", "pe_nonfacility_rvu", "pe_facility_rvu", "mp_rvu")
        ]
        if any(figure is None for figure in figures):
            bad += 1
            rvu_file.cell_mistake(
                diagnostics,
                sources,
                f"the RVUs of {code} are not numbers (work, PE non-facility, PE facility, MP)",
                number,
                "import the RVU file again: payerpolicy tables import rvu",
            )
            continue
        tables.rvus[(code, modifier)] = (*figures, row.get("mult_proc", "").strip())
    return bad
