"""Generated claims (bench/generate.py) written as one X12 837P interchange, for timing the 837P reader.

Each claim gets its own subscriber level (HL 22, the patient is the subscriber), a rendering provider of the
claim's type, and one LX / SV1 / DTP*472 per line; minutes are not carried (real 837P lines bill units).
"""

from __future__ import annotations

from typing import IO, Iterable

_TAXONOMY = {"PT": "225100000X", "PTA": "225200000X"}
_HEADER = (
    "ISA*00*          *00*          *ZZ*BENCHPT        *ZZ*MEDICAREB      *260303*0915*^*00501*000000101*0*T*:~"
    "GS*HC*BENCHPT*MEDICAREB*20260303*0915*101*X*005010X222A1~ST*837*0001*005010X222A1~"
    "BHT*0019*00*BENCH*20260303*0915*CH~NM1*41*2*BENCH PHYSICAL THERAPY*****46*BENCHPT~"
    "PER*IC*BILLING OFFICE*TE*5555550100~NM1*40*2*MEDICARE PART B*****46*12502~HL*1**20*1~"
    "PRV*BI*PXC*225100000X~NM1*85*2*BENCH PHYSICAL THERAPY*****XX*1234567893~N3*100 MAIN STREET~"
    "N4*SPRINGFIELD*IL*627010001~REF*EI*371234567~\n"
)


def write_837p(out: IO[str], claims: Iterable[dict]) -> None:
    out.write(_HEADER)
    segments = 12
    for number, claim in enumerate(claims, 2):
        patient = claim["patient"]["id"]
        provider_type = claim["provider"]["type"]
        lines = claim["lines"]
        charge = sum(line.get("charge", 0) for line in lines)
        diagnoses = "*".join(
            ("ABK:" if i == 0 else "ABF:") + code.replace(".", "") for i, code in enumerate(claim["diagnoses"])
        )
        body = [
            f"HL*{number}*1*22*0",
            "SBR*P*18*******MB",
            f"NM1*IL*1*PATIENT*{patient.replace('-', '')}****MI*{patient}",
            "DMG*D8*19480312*F",
            "NM1*PR*2*MEDICARE PART B*****PI*12502",
            f"CLM*{claim['id']}*{charge:g}***11:B:1*Y*A*Y*Y",
            f"HI*{diagnoses}",
            "NM1*82*1*RIVERA*ANA****XX*1245319599",
            f"PRV*PE*PXC*{_TAXONOMY[provider_type]}",
        ]
        for index, line in enumerate(lines, 1):
            code = ":".join(["HC", line["code"], *line["modifiers"]])
            body += [
                f"LX*{index}",
                f"SV1*{code}*{line.get('charge', 0):g}*UN*{line['units']}***1",
                f"DTP*472*D8*{line['date'].replace('-', '')}",
            ]
        segments += len(body)
        out.write("~".join(body) + "~\n")
    out.write(f"SE*{segments + 1}*0001~GE*1*101~IEA*1*000000101~\n")
