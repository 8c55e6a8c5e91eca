"""Shared test setup: the compiled-policy cache lives in a folder of the test session, not the user's home,
so runs never depend on what an earlier run (or another version) left there."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests draw the same examples on every run (a CI gate fails only on what a change did), with no
# time limit per example (a slow machine is no failure). PAYERPOLICY_FUZZ_RANDOM=1 draws new examples each
# run to look for faults; keep what it finds as a fixed test (CONTRIBUTING.md).
settings.register_profile("repeatable", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("exploring", derandomize=False, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("exploring" if os.environ.get("PAYERPOLICY_FUZZ_RANDOM") else "repeatable")


@pytest.fixture(autouse=True, scope="session")
def _compiled_policy_cache(tmp_path_factory):
    previous = os.environ.get("PAYERPOLICY_CACHE")
    os.environ["PAYERPOLICY_CACHE"] = str(tmp_path_factory.mktemp("compiled-policies"))
    yield
    if previous is None:
        os.environ.pop("PAYERPOLICY_CACHE", None)
    else:
        os.environ["PAYERPOLICY_CACHE"] = previous


@pytest.fixture(autouse=True, scope="session")
def _workers_at_any_size():
    """Worker processes start for batches of any size, so that the tests of judging on several cores run their
    small inputs on workers; the tests of the break-even (test_parallel_break_even.py) set their own."""
    import payerpolicy.run

    previous = payerpolicy.run.SERIAL_BELOW, os.environ.get("PAYERPOLICY_SERIAL_BELOW")
    payerpolicy.run.SERIAL_BELOW = 0
    os.environ["PAYERPOLICY_SERIAL_BELOW"] = "0"  # the command line, in-process or as a subprocess
    yield
    payerpolicy.run.SERIAL_BELOW = previous[0]
    if previous[1] is None:
        os.environ.pop("PAYERPOLICY_SERIAL_BELOW", None)
    else:
        os.environ["PAYERPOLICY_SERIAL_BELOW"] = previous[1]


# The slow tests (several seconds each: worker processes, every group of a policy compiled one by one, a
# file cut at every byte). `pytest -m "not slow"` leaves them out for a quick loop while editing; CI runs all.
SLOW_MODULES = {"test_parallel.py", "test_program_cache.py", "test_spark.py", "test_page.py"}
SLOW_TESTS = {
    "test_generated_groups_judge_as_the_rules_one_by_one",
    "test_a_file_cut_anywhere_gives_records_not_exceptions",
    "test_the_generated_source_is_the_same_in_every_process",
    "test_breaking_a_shipped_rule_fails_both_pytest_and_payerpolicy_test",
    "test_several_processes_write_one_file_and_nothing_is_lost_or_doubled",
    "test_a_policy_goes_to_a_worker_process_as_it_is",
    "test_cli_received_with_jobs",
    "test_a_changed_policy_is_swapped_in_and_a_broken_one_keeps_the_last_good",
    "test_the_background_thread_reloads_changed_files",
    # the impact diff's heaviest: three diffs of freshly compiled copies, a history written then diffed
    "test_base_rev_diffs_the_work_tree_against_a_commit",
    "test_a_yearly_limit_moved_counts_the_history_each_side_its_own",
    "test_jobs_give_the_same_bytes_as_one_job",  # diff --jobs 2: worker processes
    "test_jobs_with_a_history_give_the_same_as_one_job",
    "test_two_workers_judge_a_shuffled_file_as_one_process",
    "test_yaml_nested_100000_deep_is_a_diagnostic",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "originalname", None) or item.name
        if item.path.name in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


# Optional parts (the service's extra `server`, a browser for the page's tests): their tests skip, saying what
# is missing, where the dependency is not installed, unless PAYERPOLICY_REQUIRE_OPTIONAL=1 (set by .ci/run),
# where a missing dependency fails them, so that CI cannot pass by skipping.
REQUIRE_OPTIONAL = os.environ.get("PAYERPOLICY_REQUIRE_OPTIONAL") == "1"


def missing_optional(what: str) -> None:
    """Skip (or, when optional parts are required, fail) the test for want of `what`."""
    if REQUIRE_OPTIONAL:
        pytest.fail(f"{what}, and PAYERPOLICY_REQUIRE_OPTIONAL=1 requires it", pytrace=False)
    pytest.skip(f"{what} (set PAYERPOLICY_REQUIRE_OPTIONAL=1 to make this a failure)")


@pytest.fixture(scope="session")
def optional_module():
    """`optional_module("starlette", "pip install '.[server,test-server]'")`: the module, or a skip saying how to get it."""
    import importlib

    def need(name: str, how: str):
        try:
            return importlib.import_module(name)
        except ImportError:
            missing_optional(f"{name} is not installed ({how})")

    return need


@pytest.fixture(scope="session")
def missing_optional_part():
    """`missing_optional` for a test that found something else missing (a browser)."""
    return missing_optional


@pytest.fixture(scope="session")
def live_service(optional_module):
    """`with live_service(settings) as base_url:` the service on a free loopback port, run by uvicorn in a
    thread of this process, until the block ends."""
    import contextlib
    import socket
    import threading
    import time
    import urllib.request

    uvicorn = optional_module("uvicorn", "the extra `server`: pip install '.[server,test-server]'")
    optional_module("starlette", "the extra `server`: pip install '.[server,test-server]'")
    from payerpolicy.service import make_app

    @contextlib.contextmanager
    def running(settings):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(make_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/ready", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the service did not get ready"
            time.sleep(0.1)
        try:
            yield base
        finally:
            server.should_exit = True
            thread.join(timeout=10)

    return running
