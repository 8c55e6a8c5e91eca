"""Shared test setup: the compiled-policy cache lives in a folder of the test session, not the user's home,
so runs never depend on what an earlier run (or another version) left there."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _compiled_policy_cache(tmp_path_factory):
    previous = os.environ.get("PAYERPOLICY_CACHE")
    os.environ["PAYERPOLICY_CACHE"] = str(tmp_path_factory.mktemp("compiled-policies"))
    yield
    if previous is None:
        os.environ.pop("PAYERPOLICY_CACHE", None)
    else:
        os.environ["PAYERPOLICY_CACHE"] = previous


# The slow tests (several seconds each: worker processes, every group of a policy compiled one by one, a
# file cut at every byte). `pytest -m "not slow"` leaves them out for a quick loop while editing; CI runs all.
SLOW_MODULES = {"test_parallel.py", "test_program_cache.py"}
SLOW_TESTS = {
    "test_generated_groups_judge_as_the_rules_one_by_one",
    "test_a_file_cut_anywhere_gives_records_not_exceptions",
    "test_the_generated_source_is_the_same_in_every_process",
    "test_breaking_a_shipped_rule_fails_both_pytest_and_payerpolicy_test",
    "test_several_processes_write_one_file_and_nothing_is_lost_or_doubled",
    "test_a_policy_goes_to_a_worker_process_as_it_is",
    "test_cli_received_with_jobs",
    "test_two_workers_judge_a_shuffled_file_as_one_process",
    "test_yaml_nested_100000_deep_is_a_diagnostic",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "originalname", None) or item.name
        if item.path.name in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
