"""`payerpolicy.load_text`: a policy kept as text or as a mapping (in a database, say) loads like one in files,
its mistakes named by the name the caller gives, and nothing of it left on disk."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import pytest

import payerpolicy

CLAIM = {
    "id": "C-1",
    "patient": {"id": "P-1"},
    "provider": {"type": "PT"},
    "referring_npi": "1245319599",
    "lines": [{"code": "97110", "modifiers": ["GP"], "units": 3, "minutes": 45, "date": "2026-03-02"}],
}
POLICY = {
    "policy": {"payer": "db-payer", "name": "A payer kept in a database", "version": "7", "extends": "medicare"},
    "unit_caps": [{"id": "db-payer.cap.97110", "codes": "97110", "max_units": 2, "source": "contract 4.2"}],
}


def _scratch_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("payerpolicy-text-*")}


def test_a_mapping_loads_as_a_policy_and_judges(tmp_path):
    before = _scratch_folders()
    policy = payerpolicy.load_text(POLICY, name="payers/db-payer")
    decision = policy.check(CLAIM)
    [finding] = [f for f in decision.findings if f.rule == "db-payer.cap.97110"]
    assert decision.status == "denied" and finding.source == {
        "file": "payers/db-payer",
        "line": 7,
        "cite": "contract 4.2",
    }
    assert policy.payer == "db-payer" and policy.version == "7"
    assert pickle.loads(pickle.dumps(policy)).check(CLAIM).to_dict() == decision.to_dict()  # ships to workers
    assert _scratch_folders() == before


def test_mistakes_in_text_are_placed_in_the_text_under_its_name():
    text = (
        "policy: {payer: x, name: X, version: '1'}\nrules:\n  - id: x.r\n    family: custom\n"
        "    severity: deny\n    source: s\n    reason: {group: CO, carc: '4'}\n    message: m\n"
        "    codes: '97110'\n    when: unts > 2\n"
    )
    with pytest.raises(payerpolicy.PolicyError) as raised:
        payerpolicy.load_text(text, name="db:42")
    rendered = raised.value.render()
    assert "db:42:10:11: error[E401]: unknown field `unts`" in rendered
    assert " 10 |     when: unts > 2" in rendered  # the line quoted from the text itself
    assert "payerpolicy-text-" not in rendered
