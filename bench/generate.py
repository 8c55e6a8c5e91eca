"""A seeded generator of realistic therapy claims for benchmarks.

Claims have 1-8 lines of the codes, modifiers, units and provider types of the shipped policies; roughly one
claim in five carries a mistake a payer would deny (a missing GP, a PTA line without CQ, too many 97112
units, 97140 with an evaluation and no 59, a code pair without a bypass modifier).
"""

from __future__ import annotations

import datetime
import random

from payerpolicy.judge.timed_units import allocate_units

# Codes a clean claim may combine freely: no code pair among them (97116 with 97530 and 97150 with
# one-on-one exercise are pairs, so they appear only as mistakes).
TIMED = ["97110", "97112", "97140", "97530", "97035", "97032"]
UNTIMED = ["97010", "G0283"]
EVALUATIONS = ["97161", "97162", "97163", "97164"]
DIAGNOSES = ["I69.351", "R26.89", "M54.50", "G20.A1", "S06.0X0D", "M25.511", "R42", "G35"]


def _line(rng: random.Random, code: str, date: str, provider_type: str) -> dict:
    minutes = rng.choice([8, 15, 23, 24, 30, 38, 45]) if code in TIMED else None
    units = max(1, round((minutes or 15) / 15)) if code in TIMED else 1
    modifiers = ["GP"]
    if provider_type == "PTA":
        modifiers.append("CQ")
    line = {"code": code, "modifiers": modifiers, "units": units, "date": date, "charge": 35.0 * units}
    if minutes is not None:
        line["minutes"] = minutes
    return line


def _bill_by_the_minutes(lines: list[dict]) -> list[dict]:
    """Units as the 8-minute rule gives them for the day's pooled minutes, as a careful biller bills them; a
    timed service whose minutes earn no unit that day is left off the claim."""
    while True:
        timed = [line for line in lines if "minutes" in line]
        allocated = allocate_units({line["code"]: line["minutes"] for line in timed})
        idle = [line for line in timed if allocated[line["code"]] == 0]
        if not idle or len(idle) == len(lines):
            break
        lines = [line for line in lines if line not in idle]
    for line in timed:
        line["units"] = max(allocated[line["code"]], 1)
        line["charge"] = 35.0 * line["units"]
    return lines


def claim(rng: random.Random, number: int, patients: int = 20_000, days: int = 300, day: int | None = None) -> dict:
    """Claim `number`, its date of service `day` days after 2026-01-05 (any of `days` when None)."""
    date = (
        datetime.date(2026, 1, 5) + datetime.timedelta(days=rng.randrange(days) if day is None else day)
    ).isoformat()
    provider_type = rng.choice(["PT", "PT", "PT", "PTA"])
    count = rng.randint(1, 8)
    codes = rng.sample(TIMED + UNTIMED, k=min(count, len(TIMED + UNTIMED)))
    if rng.random() < 0.15:
        codes[0] = rng.choice(EVALUATIONS[:3])
        provider_type = "PT"
    lines = _bill_by_the_minutes([_line(rng, code, date, provider_type) for code in codes])
    if codes[0] in EVALUATIONS:  # an evaluation day: manual therapy carries its distinct-service modifier
        for line in lines:
            if line["code"] == "97140":
                line["modifiers"].append("XU")
    if rng.random() < 0.2:  # one mistake a payer would catch
        line = rng.choice(lines)
        mistake = rng.randrange(5)
        if mistake == 0:
            line["modifiers"] = [m for m in line["modifiers"] if m != "GP"]
        elif mistake == 1:
            line["provider"] = {"type": "PTA"}
            line["modifiers"] = ["GP"]
        elif mistake == 2:
            line.update(code="97112", units=6, minutes=90)
        elif mistake == 3:
            lines.append(_line(rng, "97150", date, provider_type))
        else:
            lines.append(
                _line(rng, "97116", date, provider_type) if "97530" in codes else _line(rng, "97161", date, "PT")
            )
    return {
        "id": f"B-{number}",
        "payer": "medicare",
        "patient": {"id": f"P-{rng.randrange(patients)}"},
        "provider": {"npi": "1234567893", "type": provider_type},
        "diagnoses": rng.sample(DIAGNOSES, k=2),
        "lines": lines,
    }


def claims(count: int, seed: int = 2026, *, patients: int = 20_000, days: int = 300) -> list[dict]:
    """`count` claims of `patients` patients over `days` dates of service from 2026-01-05. The defaults spread
    claims thinly (a patient-day rarely has two claims); few patients and days make a dense population, whose
    patient-days span several claims and whose patients pass the year's KX threshold (for tests)."""
    rng = random.Random(seed)
    return [claim(rng, i, patients, days) for i in range(count)]
