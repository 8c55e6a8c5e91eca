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
