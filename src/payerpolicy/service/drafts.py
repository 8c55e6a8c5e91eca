"""A billing specialist's unsaved edit of a policy: checked (`POST /v1/lint`) and tried on claims (`POST /v1/try`).

The payer's folder is loaded and compiled as `payerpolicy lint` would, with the edited files' text read
instead of what is on disk (the loader's `unsaved`, as for an editor's buffers): nothing is written, not even
a scratch copy, and `extends: medicare` finds its base exactly as the saved policy does. Nothing is saved
either: the service serves only the policy files on disk (`save_files` writes them, on `--allow-edits`).

Policies are not patient data; the claims tried against a draft are judged in memory and never written.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from payerpolicy import Policy, PolicyError
from payerpolicy.pipeline import display_name, load_program
from payerpolicy.service.judging import RequestError

MAX_DRAFT_FILES = 50


def policy_files(folder: Path) -> list[dict]:
    """The files a specialist may edit: a payer folder's policy and table files, tests left out."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (
            path.is_file()
            and "tests" not in relative.parts
            and not relative.name.startswith(".")
            and path.suffix in (".yaml", ".yml", ".csv", ".tsv", ".txt")
        ):
            found.append(
                {
                    "path": relative.as_posix(),
                    "file": display_name(path),
                    "text": path.read_text(encoding="utf-8", errors="replace"),
                }
            )
    return found


def draft_edits(folders: dict[str, Path], payer: str, files: dict) -> tuple[Path, dict[Path, str]]:
    """`payer`'s folder, and `files` (path in the folder -> new text) as the loader takes an editor's unsaved
    buffers (by resolved path): read instead of the disk, nothing written anywhere."""
    if payer not in folders:
        raise RequestError(404, f"no payer `{payer}` (known: {', '.join(sorted(folders))})")
    if (
        not isinstance(files, dict)
        or len(files) > MAX_DRAFT_FILES
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
    ):
        raise RequestError(400, f"`files` is an object of at most {MAX_DRAFT_FILES} file names to their text")
    folder = folders[payer]
    return folder, {_inside(folder, name).resolve(): text for name, text in files.items()}


def _inside(folder: Path, name: str) -> Path:
    relative = PurePosixPath(name)
    if (
        relative.is_absolute()
        or ".." in relative.parts
        or not relative.parts
        or relative.suffix not in (".yaml", ".yml", ".csv", ".tsv", ".txt")
    ):
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


def lint_draft(folder: Path, unsaved: dict[Path, str], payer: str, as_of: datetime.date) -> tuple[dict, Policy | None]:
    """What `payerpolicy lint` says of the payer's folder with the unsaved edits, and the draft as a `Policy`
    when it loads. Never written to the compiled-policy cache: drafts come and go with every keystroke."""
    try:
        program, warnings = load_program(str(folder), as_of, cache=False, unsaved=unsaved)
    except PolicyError as exc:
        return _report(payer, False, None, exc), None
    policy = Policy(program, warnings.diagnostics if warnings else (), source=str(folder), as_of=as_of, cwd=os.getcwd())
    return _report(payer, True, program.rules_written, warnings), policy


def _report(payer: str, ok: bool, rules: int | None, found: PolicyError | None) -> dict:
    diagnostics = []
    for diagnostic in found.diagnostics if found else ():
        item = diagnostic.to_dict()
        if "file" in item and diagnostic.span is not None:
            # Where the underlined text ends, for the page to underline it in place.
            item.update(end_line=diagnostic.span.end_line, end_column=diagnostic.span.end_column)
        diagnostics.append(item)
    out: dict = {"policy": payer, "ok": ok}
    if rules is not None:
        out["rules"] = rules
    out["diagnostics"] = diagnostics
    out["rendered"] = found.render() if found else ""
    return out
