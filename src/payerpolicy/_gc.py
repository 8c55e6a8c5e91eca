"""The garbage collector held off while a policy is built or unpickled.

Loading a policy makes hundreds of thousands of small objects (rules, code sets, table rows, the program's
constants) and every one of them stays alive as long as the policy. With the collector on, each batch of new
objects set off a collection that traced the whole growing heap again, and found nothing to free: on a payer-
scale policy (10,000 rules, a million code pairs) that was a third of a cold load and half of a cached one.

The collector is process-wide, so `paused()` puts it back exactly as it found it: if the application had it
off, it stays off. Two threads loading at once may see it re-enabled by the other before they finish, which
costs them speed, never correctness.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
