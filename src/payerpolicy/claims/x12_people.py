"""Who an 837P claim is for: its patient's key, its payer, and the small readings both X12 roads share.

`claims.x12` (the careful road, which words every problem) and `claims.x12_quick` (the quick road, which
steps aside at the first doubt) read a claim's patient and payer with these functions, so that both give the
same patient id and payer for the same claim. `claims.x12` says why the patient and payer are read this way.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re

from payerpolicy.claims.x12_segments import Segment, Subscriber

__all__ = ["birth_text", "d8_date", "patient_key", "payer_of", "person_name", "reference"]

_D8 = re.compile(r"[0-9]{8}")  # CCYYMMDD
_MEDICARE = re.compile(r"\bMEDICARE\b")


def payer_of(subscriber: Subscriber | None) -> str | None:
    """`medicare` when the claim clearly goes to Medicare; else None, and the default policy applies."""
    if subscriber is None:
        return None
    indicator = subscriber.plan.get(9) if subscriber.plan is not None else ""
    if indicator in ("MA", "MB"):  # the claim filing indicator: Medicare Part A, Part B
        return "medicare"
    payer_name = subscriber.payer.get(3).upper() if subscriber.payer is not None else ""
    if _MEDICARE.search(payer_name) and indicator != "16":  # 16: a Medicare HMO, a private plan
        return "medicare"
    return None


def person_name(nm1: Segment) -> str:
    """A person's name as the patient id shows it: LAST, FIRST (NM103, NM104), spaces tidied."""
    last, first = " ".join(nm1.get(3).upper().split()), " ".join(nm1.get(4).upper().split())
    return f"{last}, {first}" if last and first else last


def birth_text(dmg: Segment | None) -> str:
    if dmg is None or dmg.get(1) != "D8" or not _D8.fullmatch(dmg.get(2)):
        return ""
    value = dmg.get(2)
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


def d8_date(value: str) -> datetime.date | None:
    """A date written CCYYMMDD, or None."""
    if not _D8.fullmatch(value):
        return None
    try:
        return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def patient_key(member: str | None, name: str, birth: str) -> str:
    """A patient identified by name and birth date (and the subscriber's member id, if any), as a keyed hash:
    the same patient gives the same key in every run that uses the same key, and the key reveals neither.
    The hash key is $PAYERPOLICY_PATIENT_KEY when set (keep it secret, and the same across runs that share a
    claim history); without it a fixed key is used, which keeps names out of files but can be reversed by
    someone who guesses a name and birth date."""
    secret = os.environ.get("PAYERPOLICY_PATIENT_KEY", "payerpolicy patient key").encode("utf-8", "replace")
    text = "\x1f".join((member or "", name, birth)).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(text, key=secret[:64], digest_size=16).hexdigest()
    return f"{member} / {digest}" if member else f"patient {digest}"


def reference(ref: Segment | None) -> str | None:
    """The number a REF segment carries (REF02): a prior-authorization number for REF*G1."""
    return (ref.get(2).strip() or None) if ref is not None else None
