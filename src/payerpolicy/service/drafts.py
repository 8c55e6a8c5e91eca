"""A billing specialist's unsaved edit of a policy: checked (`POST /v1/lint`) and tried on claims (`POST /v1/try`).

The edited files are written over a scratch copy of the payer's folder (the other payers' folders stand
beside it as links, so `extends: medicare` finds its base as it would), the copy is loaded and compiled as
`payerpolicy lint` would, and it is removed when the request ends. Nothing is saved: the service serves only
the policy files on disk. File names in diagnostics and findings are given back as the real files' names.

Policies are not patient data; the claims tried against a draft are judged in memory and never written.
"""
from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Iterator

from payerpolicy import Policy, PolicyError
from payerpolicy.pipeline import display_name, load_program
from payerpolicy.service.judging import RequestError

MAX_DRAFT_FILES = 50


def policy_files(folder: Path) -> list[dict]:
    """The files a specialist may edit: a payer folder's policy and table files, tests left out."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and "tests" not in relative.parts and not relative.name.startswith(".") \
                and path.suffix in (".yaml", ".yml", ".csv", ".tsv", ".txt"):
            found.append({"path": relative.as_posix(), "file": display_name(path),
                          "text": path.read_text(encoding="utf-8", errors="replace")})
    return found


@contextmanager
def draft_folder(folders: dict[str, Path], payer: str, files: dict) -> Iterator[tuple[Path, dict[str, str]]]:
    """A scratch copy of `payer`'s folder with `files` (path in the folder -> new text) written over it, and
    how to name its files as the real ones (scratch display name -> real display name)."""
    if payer not in folders:
        raise RequestError(404, f"no payer `{payer}` (known: {', '.join(sorted(folders))})")
    if not isinstance(files, dict) or len(files) > MAX_DRAFT_FILES or \
            not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise RequestError(400, f"`files` is an object of at most {MAX_DRAFT_FILES} file names to their text")
    real = folders[payer]
    with tempfile.TemporaryDirectory(prefix="payerpolicy-draft-") as scratch:
        root = Path(scratch)
        for name, folder in folders.items():
            if name != payer:
                os.symlink(folder.resolve(), root / name, target_is_directory=True)
        draft = root / payer
        shutil.copytree(real, draft, ignore=shutil.ignore_patterns("tests", ".*"))
        for name, text in files.items():
            target = _inside(draft, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        yield draft, {display_name(draft) + "/": display_name(real) + "/"}


def _inside(folder: Path, name: str) -> Path:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts or \
            relative.suffix not in (".yaml", ".yml", ".csv", ".tsv", ".txt"):
        raise RequestError(400, f"`{name}` is not a policy file of this payer's folder")
    return folder.joinpath(*relative.parts)


def save_files(folder: Path, files: dict) -> list[str]:
    """Write checked edits over a payer's files, each atomically (a new file renamed over the old one), the
    file it replaces kept beside it as `<name>.previous`. The caller holds the store's `files_lock` and has
    checked that the edited policy loads."""
    written = []
    for name, text in files.items():
        target = _inside(folder, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".saving", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            if target.exists():
                shutil.copy2(target, target.with_name(target.name + ".previous"))
                shutil.copymode(target, scratch)
            os.replace(scratch, target)
        except BaseException:
            if os.path.exists(scratch):
                os.unlink(scratch)
            raise
        written.append(display_name(target))
    return written


def renamed(text: str, names: dict[str, str]) -> str:
    for scratch, real in names.items():
        text = text.replace(scratch, real)
    return text


def lint_draft(draft: Path, names: dict[str, str], payer: str,
               as_of: datetime.date) -> tuple[dict, Policy | None]:
    """What `payerpolicy lint` says of the draft (with the real file names), and the draft as a `Policy`
    when it loads. Never written to the compiled-policy cache: drafts come and go with every keystroke."""
    try:
        program, warnings = load_program(str(draft), as_of, cache=False)
    except PolicyError as exc:
        return _report(payer, False, None, exc, names), None
    policy = Policy(program, warnings.diagnostics if warnings else (), source=str(draft), as_of=as_of,
                    cwd=os.getcwd())
    return _report(payer, True, program.rule_count, warnings, names), policy


def _report(payer: str, ok: bool, rules: int | None, found: PolicyError | None, names: dict[str, str]) -> dict:
    diagnostics = []
    for diagnostic in found.diagnostics if found else ():
        item = diagnostic.to_dict()
        if "file" in item and diagnostic.span is not None:
            item["file"] = renamed(item["file"], names)
            # Where the underlined text ends, for the page to underline it in place.
            item.update(end_line=diagnostic.span.end_line, end_column=diagnostic.span.end_column)
        diagnostics.append(item)
    out: dict = {"policy": payer, "ok": ok}
    if rules is not None:
        out["rules"] = rules
    out["diagnostics"] = diagnostics
    out["rendered"] = renamed(found.render(), names) if found else ""
    return out
