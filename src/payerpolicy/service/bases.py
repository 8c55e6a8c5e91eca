"""The base policies behind a payer that extends another (`extends: medicare`), for the page: their files, to
open the base rule behind a finding, and where the payer overrides the base (a base rule it removes or
replaces), to show beside the base rule."""

from __future__ import annotations

from pathlib import Path

from payerpolicy import Policy
from payerpolicy.pipeline import resolve
from payerpolicy.service.drafts import policy_files
from payerpolicy.service.store import ServedPolicies

MAX_BASES = 8  # a chain of bases longer than this is not followed (the loader reports real circles)


def base_chain(policies: ServedPolicies, payer: str) -> list[tuple[str, Path, Policy | None]]:
    """The payer's bases, nearest first: (name, folder, its serving policy when the service serves it)."""
    chain: list[tuple[str, Path, Policy | None]] = []
    state = policies.state(payer)
    folder, policy = state.folder, state.policy
    served = {policies.state(n).folder.resolve(): n for n in policies.names()}
    while policy is not None and policy.program.policy.extends and len(chain) < MAX_BASES:
        name = policy.program.policy.extends[0]
        found = resolve(name, relative_to=folder.parent)  # as the loader finds the base
        if found is None or not found.is_dir() or any(found.resolve() == f.resolve() for _, f, _ in chain):
            break
        known = served.get(found.resolve())
        policy = policies.state(known).policy if known is not None else None
        folder = found
        chain.append((known or found.name, found, policy))
    return chain


def overrides(policy: Policy, base: Policy, own_files: list[dict]) -> list[dict]:
    """The base's rules the payer removes (`remove:`) or replaces (a rule of the same id), each with where
    the payer says so: the file (as the page names it) and line."""
    mine = {rule.id: rule for rule in policy.program.policy.rules}
    own = {f["file"] for f in own_files}
    found = []
    for rule in base.program.policy.rules:
        ours = mine.get(rule.id)
        where = {"file": rule.span.file, "line": rule.span.line}
        if ours is None:
            found.append({"rule": rule.id, "how": "removed", **_first_mention(rule.id, own_files), "base": where})
        elif ours.span.file in own:
            found.append(
                {"rule": rule.id, "how": "replaced", "file": ours.span.file, "line": ours.span.line, "base": where}
            )
    return found


def _first_mention(rule_id: str, files: list[dict]) -> dict:
    for f in files:
        for number, line in enumerate(f["text"].splitlines(), 1):
            if rule_id in line.split("#")[0]:
                return {"file": f["file"], "line": number}
    return {"file": None, "line": None}


def bases_of(policies: ServedPolicies, payer: str, own_files: list[dict]) -> tuple[list[dict], list[dict]]:
    """For `GET /v1/policies/{payer}/files`: the bases with their files, and the payer's overrides of its
    nearest base."""
    chain = base_chain(policies, payer)
    bases = [{"payer": name, "files": policy_files(folder)} for name, folder, _ in chain]
    policy = policies.state(payer).policy
    nearest = chain[0][2] if chain else None
    return bases, (overrides(policy, nearest, own_files) if policy is not None and nearest is not None else [])
