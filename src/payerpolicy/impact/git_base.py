"""A policy folder as it was at a git revision (`payerpolicy diff --base REV`), read with `git show`, so that a
pull request can be diffed against its base without checking anything out.

The folder's parent is read at that revision (every file under it, with `git ls-tree` and `git show`), so that
a payer that `extends:` a sibling folder finds the sibling as it was then too. The files go to a private
scratch folder (0700) that is removed as soon as the policy is compiled; the report names them as
`REV:path/in/the/repository`, not by the scratch folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from payerpolicy.pipeline import resolve

__all__ = ["PolicyAtRevision", "RevisionError", "read_at_revision"]


class RevisionError(ValueError):
    """A policy that cannot be read at a git revision: no git, not in a repository, an unknown revision."""


@dataclass(frozen=True)
class PolicyAtRevision:
    """A policy folder (a path in a git work tree, or a shipped payer's name) as it was at revision `rev`."""

    rev: str
    path: str | os.PathLike

    @property
    def label(self) -> str:
        return f"{self.rev}:{os.fspath(self.path)}"


def _git(top: Path | str, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", os.fspath(top), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise RevisionError("--base needs git, and git is not installed") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RevisionError(said[-1] if said else f"git {' '.join(args)} failed")
    return done.stdout


def read_at_revision(target: PolicyAtRevision) -> tuple[Path, Path, str]:
    """Write the policy's folder and its siblings as they were at the revision into a new private folder.
    Returns (that folder, the policy inside it, the text that names the scratch folder's files in reports:
    `REV:policies/`). The caller removes the scratch folder (`shutil.rmtree`)."""
    path = resolve(target.path)
    if path is None:
        raise RevisionError(f"no policy folder `{os.fspath(target.path)}` in the work tree to read at {target.rev}")
    path = path.resolve()
    folder = path if path.is_dir() else path.parent
    top = Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{target.rev}^{{commit}}")
    except RevisionError:
        raise RevisionError(f"`{target.rev}` is not a revision of the git repository at {top}") from None
    relative = path.relative_to(top)
    parent = relative.parent
    listed = _git(
        top, "ls-tree", "-r", "-z", "--name-only", target.rev, "--", parent.as_posix() if parent.parts else "."
    )
    names = [n for n in listed.decode("utf-8", "surrogateescape").split("\0") if n]
    inside = [n for n in names if n == relative.as_posix() or n.startswith(relative.as_posix() + "/")]
    if not inside:
        raise RevisionError(f"`{relative.as_posix()}` does not exist at revision {target.rev}")
    scratch = Path(tempfile.mkdtemp(prefix="payerpolicy-base-"))
    try:
        for name in names:
            file = scratch / Path(name).relative_to(parent)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(_git(top, "show", f"{target.rev}:{name}"))
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shown = f"{target.rev}:{parent.as_posix() + '/' if parent.parts else ''}"
    return scratch, scratch / relative.relative_to(parent), shown
