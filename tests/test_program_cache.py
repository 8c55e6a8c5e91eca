"""The compiled-policy cache: a second load skips reading and compiling, and any change to the policy's files
(or the date it is known on) is seen at once."""

from __future__ import annotations

import os
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy import pipeline as policy_load
from payerpolicy.program import cache as program_cache
from payerpolicy.claims.json_claims import claim_from_dict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PAYERPOLICY_CACHE", str(folder))
    return folder


@pytest.fixture
def policy_folder(tmp_path) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        textwrap.dedent("""\
        policy: {payer: acme, name: Acme, version: "1", extends: medicare}
        unit_caps:
          - {id: acme.cap.97110, codes: 97110, max_units: 4, source: "test"}
        rules:
          - id: acme.everything
            family: custom
            severity: info
            reason: {group: CO, carc: "16"}
            when: units > 50
            message: "fifty units on one line"
            source: "test"
        code_pair_tables:
          - {id: acme.ptp, file: ptp.csv, source: "test edits"}
        """)
    )
    (folder / "ptp.csv").write_text("column1,column2,modifier_indicator\n97530,97035,1\n")
    return folder


def _no_compiling(monkeypatch):
    def refuse(spec):
        raise AssertionError("the policy was compiled again instead of coming from the cache")

    monkeypatch.setattr(policy_load, "plan_program", refuse)


def _claim(units=5, codes=("97110",)):
    return {
        "id": "C-1",
        "payer": "acme",
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "lines": [
            {"code": code, "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": "2026-03-02"}
            for code in codes
        ],
    }


def _rules(decision):
    return sorted(f.rule for f in decision.findings)


def test_a_second_load_comes_from_the_cache_and_judges_the_same(cache, policy_folder, monkeypatch):
    first = payerpolicy.load(policy_folder)
    assert list(cache.glob("*.pickle"))
    claims = [claim_from_dict(dict(c, payer="acme")) for c in generate.claims(1500, seed=3)]
    claims.append(claim_from_dict(_claim(codes=("97530", "97035"))))
    _no_compiling(monkeypatch)
    second = payerpolicy.load(policy_folder)
    assert list(second.check_many(claims, window=20)) == list(first.check_many(claims, window=20))
    assert [second.check(c) for c in claims[:300]] == [first.check(c) for c in claims[:300]]
    assert "acme.ptp" in _rules(second.check(claims[-1]))
    # The warnings come back too, quoting their lines.
    assert [d.code for d in second.warnings] == [d.code for d in first.warnings] == ["W501"]


def test_the_shipped_policy_loads_from_the_cache(cache, monkeypatch):
    payerpolicy.load("medicare")
    _no_compiling(monkeypatch)
    assert payerpolicy.load("medicare").program.rule_count == payerpolicy.load("medicare").program.rule_count


def test_an_edit_that_keeps_the_file_size_is_seen(cache, policy_folder):
    assert "acme.cap.97110" in _rules(payerpolicy.load(policy_folder).check(_claim(units=5)))
    path = policy_folder / "policy.yaml"
    path.write_text(path.read_text().replace("max_units: 4", "max_units: 5"))
    assert "acme.cap.97110" not in _rules(payerpolicy.load(policy_folder).check(_claim(units=5)))


def test_a_changed_pair_table_is_seen(cache, policy_folder):
    claim = _claim(units=1, codes=("97530", "97035"))
    assert "acme.ptp" in _rules(payerpolicy.load(policy_folder).check(claim))
    (policy_folder / "ptp.csv").write_text("column1,column2,modifier_indicator\n97530,97035,9\n")
    assert "acme.ptp" not in _rules(payerpolicy.load(policy_folder).check(claim))


def test_a_new_policy_file_in_the_folder_is_seen(cache, policy_folder):
    assert "acme.cap.97112" not in _rules(payerpolicy.load(policy_folder).check(_claim(codes=("97112",))))
    (policy_folder / "more.yaml").write_text(
        "unit_caps:\n  - {id: acme.cap.97112, codes: 97112, max_units: 2, source: test}\n"
    )
    assert "acme.cap.97112" in _rules(payerpolicy.load(policy_folder).check(_claim(codes=("97112",))))


def test_each_as_of_date_has_its_own_entry(cache, policy_folder):
    import datetime

    payerpolicy.load(policy_folder, as_of=datetime.date(2026, 1, 1))
    payerpolicy.load(policy_folder, as_of=datetime.date(2020, 6, 1))
    assert len(list(cache.glob("*.pickle"))) == 2


def test_a_damaged_entry_is_ignored_and_rewritten(cache, policy_folder):
    payerpolicy.load(policy_folder)
    [entry] = cache.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    with pytest.warns(program_cache.CacheWarning, match="damaged"):
        assert "acme.cap.97110" in _rules(payerpolicy.load(policy_folder).check(_claim()))
    assert entry.read_bytes() != b"not a pickle"


class _Planted:
    def __reduce__(self):  # what a planted pickle would do when loaded
        return (Path.write_text, (Path(__file__).parent / "planted-ran", "yes"))


def test_a_planted_entry_is_never_unpickled(cache, policy_folder, tmp_path):
    import pickle

    payerpolicy.load(policy_folder)
    [entry] = cache.glob("*.pickle")
    ran = Path(__file__).parent / "planted-ran"
    entry.write_bytes(pickle.dumps({"version": "x", "spec": _Planted()}))
    program_cache._warned.clear()
    with pytest.warns(program_cache.CacheWarning, match="not written by payerpolicy"):
        payerpolicy.load(policy_folder)
    assert not ran.exists()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "key").stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_folder_others_may_write_is_not_used(cache, policy_folder):
    payerpolicy.load(policy_folder)
    cache.chmod(0o777)
    program_cache._warned.clear()
    try:
        with pytest.warns(program_cache.CacheWarning, match="may be written by others"):
            assert "acme.cap.97110" in _rules(payerpolicy.load(policy_folder).check(_claim()))
    finally:
        cache.chmod(0o700)


def test_the_cache_can_be_turned_off(tmp_path, policy_folder, monkeypatch):
    monkeypatch.setenv("PAYERPOLICY_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    payerpolicy.load(policy_folder)
    assert not (tmp_path / "xdg").exists()


def test_a_cache_folder_that_cannot_be_written_does_not_stop_a_load(tmp_path, policy_folder, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    monkeypatch.setenv("PAYERPOLICY_CACHE", str(blocked / "cache"))
    assert "acme.cap.97110" in _rules(payerpolicy.load(policy_folder).check(_claim()))


def test_a_policy_with_errors_is_never_kept(cache, policy_folder):
    path = policy_folder / "policy.yaml"
    path.write_text(path.read_text().replace("max_units: 4", "max_units: four"))
    with pytest.raises(payerpolicy.PolicyError):
        payerpolicy.load(policy_folder)
    assert not list(cache.glob("*.pickle"))


def test_workers_loading_from_the_cache_match_a_parent_that_compiled(tmp_path, monkeypatch):
    """The first run with --jobs compiles in the parent and the workers find the policy in the cache: they
    must still recognise it as the same policy (a stripped cached rule is not a different rule)."""
    import subprocess

    monkeypatch.setenv("PAYERPOLICY_CACHE", str(tmp_path / "fresh-cache"))
    env = dict(__import__("os").environ, PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "payerpolicy", "check", "--format", "csv", str(ROOT / "examples" / "claims.json")]
    parallel = subprocess.run(command + ["--jobs", "2"], capture_output=True, text=True, env=env, timeout=120)
    assert parallel.returncode == 3, parallel.stderr  # 3: an example claim cannot be read
    single = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert parallel.stdout == single.stdout and parallel.stdout.count("\n") > 5


def test_a_load_from_another_working_folder_names_files_from_there(cache, policy_folder, monkeypatch):
    first = payerpolicy.load(policy_folder)
    monkeypatch.chdir(policy_folder)
    again = payerpolicy.load(".")

    def own(policy):  # the files of the test policy itself, not of medicare below it
        return {r.span.file for r in policy.program.policy.rules if r.span and not r.span.file.startswith("policies/")}

    assert own(again) == {"policy.yaml"} and own(first) != own(again)


def test_a_cap_from_the_cache_still_says_how_many_units_to_bill(cache, policy_folder, monkeypatch):
    """The cache keeps a fix's units as the compiled function only (not its expression): the fix must still
    carry the number of units the cap allows."""
    payerpolicy.load(policy_folder)
    _no_compiling(monkeypatch)
    decision = payerpolicy.load(policy_folder).check(_claim(units=6))
    fixes = [(f.fix.action, f.fix.value) for f in decision.findings if f.fix is not None]
    assert ("set_units", 4) in fixes
    assert "acme.cap.97110" in _rules(decision)


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_garbage_collector_as_it_found_it(cache, policy_folder, enabled):
    """Loading holds the collector off (every object it makes stays alive) and puts it back as it was."""
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        payerpolicy.load(policy_folder)  # compiled
        assert gc.isenabled() is enabled
        payerpolicy.load(policy_folder)  # from the cache
        assert gc.isenabled() is enabled
        with pytest.raises(payerpolicy.PolicyError):
            payerpolicy.load_text("policy: {payer: broken}\nrules: [")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.skipif(os.name != "posix", reason="the change time is the last change's only on POSIX")
def test_a_settled_file_is_not_read_again_and_an_edit_to_it_is_still_seen(cache, policy_folder, monkeypatch):
    """A file that had not changed for a while when the entry was written is vouched for by its status; an
    edit that keeps its size and puts its modification time back still shows, in its change time."""
    monkeypatch.setattr(program_cache, "_SETTLED_NS", 0)  # every file counts as settled at once
    claim = _claim(units=1, codes=("97530", "97035"))
    assert "acme.ptp" in _rules(payerpolicy.load(policy_folder).check(claim))

    def unread(path):
        raise AssertionError(f"{path} was read again")

    with monkeypatch.context() as patched:
        patched.setattr(program_cache, "_digest", unread)
        _no_compiling(patched)
        assert "acme.ptp" in _rules(payerpolicy.load(policy_folder).check(claim))
    table = policy_folder / "ptp.csv"
    before = table.stat()
    time.sleep(0.05)  # past the clock's resolution, which the real margin of seconds stands for
    table.write_text("column1,column2,modifier_indicator\n97530,97035,9\n")  # the same size
    os.utime(table, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert table.stat().st_size == before.st_size and table.stat().st_mtime_ns == before.st_mtime_ns
    assert "acme.ptp" not in _rules(payerpolicy.load(policy_folder).check(claim))


def test_a_file_changed_just_before_the_entry_is_read_again(cache, policy_folder, monkeypatch):
    """A file changed within the margin is not vouched for by its status: its bytes decide."""
    monkeypatch.setattr(program_cache, "_SETTLED_NS", 10**18)  # however slow the load: every file is recent
    payerpolicy.load(policy_folder)
    reads = []
    real = program_cache._digest
    monkeypatch.setattr(program_cache, "_digest", lambda path: reads.append(path.name) or real(path))
    _no_compiling(monkeypatch)
    payerpolicy.load(policy_folder)
    assert {"policy.yaml", "ptp.csv"} <= set(reads)


@pytest.mark.parametrize("settled_ns", [0, 10**18], ids=["settled", "recent"])
def test_a_file_edited_while_the_policy_loads_is_never_cached_as_compiled(
    cache, policy_folder, monkeypatch, settled_ns
):
    """The entry keeps what the load read, not what is on disk when it is written: a cap edited after the
    policy file was read (here: just before the entry is saved) makes the next load compile again."""
    monkeypatch.setattr(program_cache, "_SETTLED_NS", settled_ns)
    path = policy_folder / "policy.yaml"
    real_save = program_cache.save

    def edit_then_save(*args, **kwargs):
        time.sleep(0.05)  # past the clock's resolution
        path.write_text(path.read_text().replace("max_units: 4", "max_units: 5"))
        real_save(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(program_cache, "save", edit_then_save)
        compiled_from_the_old_text = payerpolicy.load(policy_folder)
    assert "acme.cap.97110" in _rules(compiled_from_the_old_text.check(_claim(units=5)))
    # The file now says 5 units: the next load must judge by it, not by the entry made from the text with 4.
    assert "acme.cap.97110" not in _rules(payerpolicy.load(policy_folder).check(_claim(units=5)))
