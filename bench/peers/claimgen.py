"""Deterministic synthetic claim batch (seeded random).

Claims are generated compliant first, then about a fifth of them get one or
two defects injected (unit cap, missing therapy modifier, missing NCCI
modifier, missing assistant modifier).  Some defects are "near misses" that
must NOT be flagged (e.g. 97110 with 6 units: the unit cap only covers 97112),
so engines cannot pass by over-matching.
"""

import random

THERAPY = ["97110", "97112", "97116", "97140", "97150", "97530", "97535"]
EVALS = ["97161", "97162", "97163"]
OTHER_EVALS = ["97164", "97165", "97166", "97167", "97168"]
NON_THERAPY = ["99213", "99203", "97014", "G0283", "98940", "97010", "20560"]
THERAPY_MODS = ["GP", "GO", "GN"]
NCCI_MODS = ["59", "XS", "XU", "XE", "XP"]
PAYERS = ["MEDICARE", "MEDICAID", "AETNA", "UHC", "BCBS", "CIGNA"]
PROVIDERS = ["PT", "PT", "PT", "OT", "OT", "PTA", "OTA", "MD"]


def _clean_line(rng, code, has_eval):
    ptype = rng.choice(PROVIDERS)
    units = rng.randint(1, 4) if code not in EVALS + OTHER_EVALS else 1
    minutes = units * 15 - rng.randint(0, 7)
    mods = []
    if code in THERAPY or code in EVALS or code in OTHER_EVALS:
        mods.append(rng.choice(THERAPY_MODS))
    if ptype == "PTA":
        mods.append("CQ")
    elif ptype == "OTA":
        mods.append("CO")
    if has_eval and code in ("97140", "97530"):
        mods.append(rng.choice(NCCI_MODS))
    if rng.random() < 0.15:
        mods.append(rng.choice(["KX", "25", "RT", "LT"]))
    rng.shuffle(mods)
    return {"code": code, "units": units, "minutes": minutes, "modifiers": mods, "provider_type": ptype}


def _inject(rng, lines, has_eval):
    kind = rng.randrange(5)
    i = rng.randrange(len(lines))
    line = lines[i]
    if kind == 0:  # R1: 97112 over the cap (or a near miss on another code)
        line["code"] = "97112" if rng.random() < 0.8 else "97110"
        if not any(m in THERAPY_MODS for m in line["modifiers"]):
            line["modifiers"].append("GP")
        line["units"] = rng.randint(5, 8)
        line["minutes"] = line["units"] * 15
    elif kind == 1:  # R2: drop the therapy-discipline modifier
        line["modifiers"] = [m for m in line["modifiers"] if m not in THERAPY_MODS]
    elif kind == 2:  # R3: eval + 97140/97530 without an NCCI modifier
        if not has_eval:
            j = rng.randrange(len(lines))
            if j == i:
                lines.append(_clean_line(rng, rng.choice(EVALS), True))
            else:
                lines[j]["code"] = rng.choice(EVALS)
                lines[j]["units"] = 1
                if not any(m in THERAPY_MODS for m in lines[j]["modifiers"]):
                    lines[j]["modifiers"].append("GO")
        line["code"] = rng.choice(["97140", "97530"])
        line["modifiers"] = [m for m in line["modifiers"] if m not in NCCI_MODS]
        if not any(m in THERAPY_MODS for m in line["modifiers"]):
            line["modifiers"].append("GP")
    elif kind == 3:  # R4: assistant without CQ/CO (or a near miss: swapped)
        if rng.random() < 0.5:
            line["provider_type"] = "PTA"
            line["modifiers"] = [m for m in line["modifiers"] if m != "CQ"]
            if rng.random() < 0.5:
                line["modifiers"].append("CO")  # wrong assistant modifier
        else:
            line["provider_type"] = "OTA"
            line["modifiers"] = [m for m in line["modifiers"] if m != "CO"]
    else:  # near misses only: must produce no violation
        if rng.random() < 0.5:
            line["code"] = "97112"
            line["units"] = 4
            if not any(m in THERAPY_MODS for m in line["modifiers"]):
                line["modifiers"].append("GN")
        else:
            line["code"] = rng.choice(NON_THERAPY)
            line["modifiers"] = [m for m in line["modifiers"] if m not in THERAPY_MODS]


def make_claims(n=100_000, seed=20240611, defect_rate=0.27):
    rng = random.Random(seed)
    claims = []
    for _ in range(n):
        nlines = rng.randint(1, 6)
        has_eval = rng.random() < 0.25
        codes = []
        if has_eval:
            codes.append(rng.choice(EVALS))
        while len(codes) < nlines:
            r = rng.random()
            if r < 0.70:
                codes.append(rng.choice(THERAPY))
            elif r < 0.80:
                codes.append(rng.choice(OTHER_EVALS))
            else:
                codes.append(rng.choice(NON_THERAPY))
        rng.shuffle(codes)
        lines = [_clean_line(rng, c, has_eval) for c in codes]
        if rng.random() < defect_rate:
            for _ in range(1 if rng.random() < 0.8 else 2):
                _inject(rng, lines, has_eval)
                has_eval = has_eval or any(l["code"] in EVALS for l in lines)
        claims.append(
            {
                "patient_id": "P%07d" % rng.randrange(10_000_000),
                "date_of_service": "2024-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28)),
                "payer": rng.choice(PAYERS),
                "lines": lines,
            }
        )
    return claims
