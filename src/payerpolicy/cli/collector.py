"""What a long `check` keeps alive, taken out of the cycle collector's walks as the run goes.

A run keeps many objects for a long time: the claims waiting in the window (`--window`), and the lines of
the claim history's recent patients, kept in memory so that no claim rereads its patient's year (up to
hundreds of thousands of lines). Python's cycle collector walks every object that survived its young
generations whenever enough new ones have been promoted, and a run promotes a steady stream (every claim
lives through the window): as the history's memory filled, each full collection walked a larger heap, and a
run of 40,000 claims spent twice as long collecting in its third 10,000 as in its first (bench/scale.py).

None of those objects is in a reference cycle (tests/test_claim_garbage.py): reference counting frees each
one when it is done with, frozen or not, and the collector has nothing to find among them. `check` owns its
process, so every `EVERY` claims it moves what is alive into the collector's permanent generation
(`gc.freeze`), and a full collection walks only what came since; at the end of the run they are given back
(`gc.unfreeze`). Left alone when something else froze objects first (the collector is then not ours to
manage); never done by the library (`check_many`), whose process is the application's.
"""

from __future__ import annotations

import gc


class KeptOutOfCollections:
    """`with KeptOutOfCollections() as kept:` around a run, `kept.tick()` once per claim judged."""

    EVERY = 1000  # claims between freezes: one freeze costs about what the collector's youngest pass does

    def __init__(self, every: int | None = None) -> None:
        self.every = every or self.EVERY
        self.count = 0
        self.ours = False

    def __enter__(self) -> "KeptOutOfCollections":
        self.ours = gc.get_freeze_count() == 0
        return self

    def tick(self) -> None:
        self.count += 1
        if self.ours and not self.count % self.every:
            gc.freeze()

    def __exit__(self, *exc_info) -> None:
        if self.ours:
            gc.unfreeze()
