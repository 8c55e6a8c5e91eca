"""The fields of claim JSON, level by level, declared once for both roads that read it.

The careful road (`json_claims`) takes every field listed here and names the closest one when a claim has a
field that is not (nearly always a misspelling). The quick road (`json_quick`) reads the fields of a level
but its `careful_only` ones; a claim with one of those, or with any field not listed, is left to the careful
road. A new field is added here once: the careful road then allows it, and the quick road sends claims that
have it to the careful road until it reads it too (`tests/test_claim_json_fields.py` holds both to this).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JsonLevel:
    """One level of claim JSON (the claim, its patient, a provider, a line, a period): its fields, in the
    order the careful road lists them in its "fields allowed here" hint, and those the quick road leaves to
    the careful one."""

    fields: tuple[str, ...]
    careful_only: frozenset[str] = frozenset()

    @property
    def quick(self) -> frozenset[str]:
        """The fields the quick road reads."""
        return frozenset(self.fields) - self.careful_only


CLAIM = JsonLevel(
    (
        "id",
        "payer",
        "patient",
        "provider",
        "diagnoses",
        "frequency",
        "place_of_service",
        "prior_authorization",
        "referring_npi",
        "treatment_began",
        "lines",
    ),
    careful_only=frozenset({"referring_npi", "treatment_began"}),
)
PATIENT = JsonLevel(("id", "birth_date"), careful_only=frozenset({"birth_date"}))
PROVIDER = JsonLevel(("npi", "type"))
LINE = JsonLevel(
    (
        "code",
        "modifiers",
        "units",
        "minutes",
        "periods",
        "date",
        "charge",
        "diagnosis_pointers",
        "provider",
        "place_of_service",
        "prior_authorization",
    ),
    careful_only=frozenset({"periods"}),  # treatment periods: their times are checked across the claim's lines
)
PERIOD = JsonLevel(("start", "end", "provider"))  # only on the careful road, as `periods` is
