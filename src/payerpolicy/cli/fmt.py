"""`payerpolicy fmt [--check | --diff] [PATH...]`: policy files in one layout (`policy.layout` says which).

Like `ruff format`: with no option it rewrites the files that are not in the layout; `--check` only names them
and `--diff` prints what would change, both exiting 1 when a file would change (for CI and pre-commit). A file
that cannot be laid out (not YAML, or a comment `fmt` cannot place) is reported with its file:line:column and
left untouched, the other files are still formatted, and the run exits 2.
"""

from __future__ import annotations

from payerpolicy.cli.help import Command, OneOf, option

import difflib
import os
import sys
import tempfile
from pathlib import Path

from payerpolicy.diagnostics import Diagnostic, SourceFiles, Span, render
from payerpolicy import LAYOUT_WIDTH, LayoutError, lay_out

_SUFFIXES = (".yaml", ".yml")


def run(args) -> int:
    if args.paths == ["-"]:
        return _standard_streams(args)
    files, missing = _files(args.paths)
    for name in missing:
        print(f"payerpolicy fmt: no such file or folder: {name}", file=sys.stderr)
    changed: list[Path] = []
    failed = len(missing)
    for path in files:
        display = str(path)
        try:
            before = path.read_bytes().decode("utf-8")
        except OSError as exc:
            print(f"{display}: cannot read the file: {exc.strerror}", file=sys.stderr)
            failed += 1
            continue
        except UnicodeDecodeError:
            print(
                render(
                    Diagnostic("E102", "the file is not UTF-8 text", Span(display, 1, 1), "save the file as UTF-8"),
                    SourceFiles(),
                ),
                file=sys.stderr,
            )
            failed += 1
            continue
        try:
            after = lay_out(before, display)
        except LayoutError as exc:
            print(render(exc.diagnostic, SourceFiles(texts={display: before})), file=sys.stderr)
            failed += 1
            continue
        if after == before:
            continue
        changed.append(path)
        if args.check:
            print(f"would reformat {display}", file=sys.stderr)
        elif args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    before.splitlines(keepends=True), after.splitlines(keepends=True), display, display
                )
            )
        else:
            _write(path, after)
            print(f"reformatted {display}", file=sys.stderr)
    _summary(len(changed), len(files) - len(changed) - (failed - len(missing)), failed, args.check or args.diff)
    if failed:
        return 2
    return 1 if changed and (args.check or args.diff) else 0


def _standard_streams(args) -> int:
    """`payerpolicy fmt -`: standard input laid out on standard output, for an editor's format command."""
    before = sys.stdin.read()
    try:
        after = lay_out(before, "<stdin>")
    except LayoutError as exc:
        print(render(exc.diagnostic, SourceFiles(texts={"<stdin>": before})), file=sys.stderr)
        return 2
    if args.diff:
        sys.stdout.writelines(
            difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), "<stdin>", "<stdin>"
            )
        )
    elif not args.check:
        sys.stdout.write(after)
    return 1 if after != before and (args.check or args.diff) else 0


def _files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The YAML files named or found under the folders named, each once, hidden files and folders skipped."""
    found: dict[Path, None] = {}
    missing = []
    for name in paths:
        path = Path(name)
        if path.is_file():
            found[path] = None
        elif path.is_dir():
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for file in sorted(names):
                    if file.endswith(_SUFFIXES) and not file.startswith("."):
                        found[Path(folder) / file] = None
        else:
            missing.append(name)
    return list(found), missing


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions, so a reader never sees half a file."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".fmt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _summary(changed: int, unchanged: int, failed: int, dry: bool) -> None:
    files = lambda n: f"{n} file{'s' if n != 1 else ''}"  # noqa: E731
    verb = "would be reformatted" if dry else "reformatted"
    kept = "already formatted" if dry else "left unchanged"
    cannot = f", {files(failed)} could not be formatted" if failed else ""
    print(f"{files(changed)} {verb}, {files(unchanged)} {kept}{cannot}", file=sys.stderr)


COMMAND = Command(
    "fmt",
    "lay policy files out one way (comments kept)",
    (
        "payerpolicy fmt policies",
        "payerpolicy fmt --check policies",
        "payerpolicy fmt --diff policies/acme-health/policy.yaml",
        "payerpolicy fmt - < policy.yaml    (an editor's format command)",
        "",
        "exit status: 0 nothing to change (or all rewritten); 1 with --check or --diff, a file",
        "would change; 2 a file cannot be read or laid out",
    ),
    run,
    options=(
        OneOf(
            (
                option("--check", action="store_true", help="do not write: name the files that would change"),
                option("--diff", action="store_true", help="do not write: print the changes as a unified diff"),
            )
        ),
        option(
            "paths",
            nargs="*",
            default=["."],
            metavar="PATH",
            help="YAML files, or folders searched for *.yaml and *.yml (default: the current folder); "
            "- reads standard input and writes the laid-out text to standard output",
        ),
    ),
    settings=dict(
        description=f"Lay policy YAML files (policies, tables and test cases) out one way: two spaces per level, "
        f"flow lists on one line up to {LAYOUT_WIDTH} columns, conditions spaced one way, comments and blank "
        "lines kept. What the files say does not change.",
    ),
)
