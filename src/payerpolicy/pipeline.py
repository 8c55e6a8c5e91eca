"""The policy pipeline, start to end: files -> documents -> spec (with its base) -> checked -> program.

    read YAML (policy_files) -> validate (policy.schema) -> build, parse and lower rules (policy.build)
        -> merge with the base it extends (policy.inherit) -> check (policy.check)
        -> the rules as known on the `as_of` date (policy.as_of) -> compile (program.compile)

Every stage adds to one list of diagnostics and goes on as far as it safely can, so the author sees all
mistakes of all files at once; if any is an error, `load_program` raises `PolicyError` with the full list
and nothing is compiled.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from payerpolicy.diagnostics import Diagnostic, PolicyError, SourceFiles, Span, did_you_mean
from payerpolicy.policy.build import build_policy
from payerpolicy.policy.files import PolicyDocument, read_policy_file
from payerpolicy.policy.inherit import merge
from payerpolicy.policy.model import PolicySpec
from payerpolicy.policy.schema import validate_document
from payerpolicy.policy.as_of import as_known_on
from payerpolicy.program import cache as program_cache
from payerpolicy.program.compile import RuleProgram, assemble, plan_program
from payerpolicy.program.verdicts import plan_verdicts
from payerpolicy._gc import paused as gc_paused
from payerpolicy._resources import policies_dir
from payerpolicy.policy.check import check_policy


def shipped_policies() -> dict[str, Path]:
    """The policies that come with the package, by folder name."""
    root = policies_dir()
    return {p.name: p for p in sorted(root.iterdir()) if looks_like_policy_folder(p)}


def looks_like_policy_folder(path: Path) -> bool:
    """A folder that holds policy files itself (not only folders of them)."""
    return path.is_dir() and (any(path.glob("*.yaml")) or any(path.glob("*.yml")))


def resolve(source: str | os.PathLike, relative_to: Path | None = None) -> Path | None:
    """A policy folder or file from a shipped payer name, or a path (relative to `relative_to` if given)."""
    text = os.fspath(source)
    looks_like_path = os.sep in text or "/" in text or text.startswith(".") or text.endswith((".yaml", ".yml"))
    candidates = []
    if relative_to is not None:
        candidates.append(relative_to / text)
    if looks_like_path or relative_to is None:
        candidates.append(Path(text))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return shipped_policies().get(text)


def display_name(path: Path) -> str:
    """How a policy file is named in messages: policies/medicare/caps.yaml for shipped ones."""
    path = path.resolve()
    shipped = policies_dir().resolve()
    if shipped in path.parents:
        return "policies/" + path.relative_to(shipped).as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def policy_files(path: Path, unsaved: dict | None = None) -> list[Path]:
    """The policy files of a folder (or the one file), with any `unsaved` one (by resolved path) that is not
    on disk yet: an editor's new file is loaded as if saved."""
    if path.is_file():
        return [path]
    found = {p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()}
    folder = path.resolve()
    found |= {path / p.name for p in unsaved or () if p.parent == folder and p.suffix in (".yaml", ".yml")}
    return sorted(found)


def load_spec(
    source,
    diagnostics: list[Diagnostic],
    sources: SourceFiles,
    *,
    relative_to: Path | None = None,
    chain: tuple = (),
    span: Span | None = None,
) -> PolicySpec | None:
    path = _policy_path(source, diagnostics, relative_to, chain, span)
    if path is None:
        return None
    files = policy_files(path, sources.unsaved)
    sources.listed[path] = [f.name for f in files]
    if not files:
        diagnostics.append(Diagnostic("E100", f"`{display_name(path)}` holds no .yaml policy files", span))
        return None
    documents, extends = _read_documents(files, diagnostics, sources)
    # The base comes first: the payer's rows may rely on its defaults and code sets.
    base = None
    if extends is not None:
        base_name, base_span = extends
        folder = path if path.is_dir() else path.parent
        base = load_spec(
            base_name, diagnostics, sources, relative_to=folder.parent, chain=chain + (path.resolve(),), span=base_span
        )
        if base is None:
            # The payer's rows lean on the base (its code sets, its defaults for each family): built against
            # nothing, every row would report a follow-on of the one mistake in `extends`. Its files' YAML and
            # shape are checked above; the rest once the base loads.
            return None
    spec = build_policy(display_name(path), documents, diagnostics, len(documents) < len(files), base, sources)
    if spec is None or extends is None:
        return spec
    return merge(base, spec, diagnostics) if base is not None else None


def _policy_path(
    source, diagnostics: list[Diagnostic], relative_to: Path | None, chain: tuple, span: Span | None
) -> Path | None:
    """Where the policy `source` names is, or None (with E100 or E411) when nowhere or in a circle of bases."""
    path = resolve(source, relative_to)
    if path is None:
        known = list(shipped_policies())
        diagnostics.append(
            Diagnostic(
                "E100",
                f"no policy `{source}`: not a file or folder, and not a shipped payer",
                span,
                did_you_mean(str(source), known) or f"shipped payers: {', '.join(known)}",
            )
        )
        return None
    if path.resolve() in chain:
        diagnostics.append(
            Diagnostic(
                "E411",
                f"policies extend each other in a circle: `{source}`",
                span,
                "a base policy cannot extend, directly or through others, a policy built on it",
            )
        )
        return None
    return path


def _read_documents(
    files: list[Path], diagnostics: list[Diagnostic], sources: SourceFiles
) -> tuple[list[PolicyDocument], tuple | None]:
    """The policy's files read and validated (those that cannot be read are left out, with their diagnostics),
    and the base its `extends:` names with where it is written."""
    documents = []
    extends = None
    for file in files:
        doc = read_policy_file(file, display_name(file), sources, diagnostics)
        if doc is None:
            continue
        extends = extends or _extends(doc)  # read before validation prunes a broken `policy:` section
        validate_document(doc, diagnostics)
        documents.append(doc)
    return documents, extends


def _extends(doc) -> tuple | None:
    meta = doc.data.get("policy") if isinstance(doc.data, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("extends"), str) and meta["extends"].strip():
        return meta["extends"], doc.span(("policy", "extends"))
    return None


def load_program(
    source, as_of: datetime.date | None = None, cache: bool = True, unsaved: dict[Path, str] | None = None
) -> tuple[RuleProgram, PolicyError | None]:
    """Load, check and compile a policy; raise `PolicyError` with every diagnostic if any is an error.

    Returns the program and, when there are warnings, a `PolicyError` holding them (not raised) so they can
    be rendered with their source lines. A policy loaded before, unchanged since, comes from the compiled-
    policy cache (`program.cache`) unless `cache` is False. `unsaved`: the text of files being edited (by
    path), read instead of what is on disk (an editor's buffers: nothing is cached then)."""
    with gc_paused():
        return _load_program(source, as_of or datetime.date.today(), cache and not unsaved, unsaved)


def _load_program(
    source, as_of: datetime.date, cache: bool, unsaved: dict[Path, str] | None
) -> tuple[RuleProgram, PolicyError | None]:
    path = resolve(source)
    if cache and path is not None:
        cached = program_cache.load(path, as_of)
        if cached is not None:
            spec, plan, warnings, texts, identity = cached
            program = assemble(spec, plan)
            program.identity = program_cache.identity_text(identity)
            return program, (PolicyError(warnings, SourceFiles(texts)) if warnings else None)
    diagnostics: list[Diagnostic] = []
    sources = SourceFiles(unsaved={Path(p).resolve(): text for p, text in (unsaved or {}).items()})
    spec = load_spec(source, diagnostics, sources)
    if spec is not None:
        check_policy(spec, diagnostics)
    if spec is None or any(d.severity == "error" for d in diagnostics):
        raise PolicyError(diagnostics, sources)
    written = len(spec.rules)  # before the rules not in force on `as_of` are left out
    spec = as_known_on(spec, as_of)
    plan = plan_program(spec)
    plan.rules_written = written
    plan.verdicts = plan_verdicts(spec, plan)  # the rule trees are not kept in the cache: written now
    program = assemble(spec, plan)
    warnings = PolicyError(diagnostics, sources) if diagnostics else None
    if unsaved:  # made from text that is on no disk: nothing there can tell whether it is the same
        return program, warnings
    # What the program was made from, so that another process can tell it made the same one.
    identity = program_cache.identity(sources, as_of)
    program.identity = program_cache.identity_text(identity)
    if cache and path is not None:
        program_cache.save(path, as_of, spec, plan, warnings.diagnostics if warnings else [], sources, identity)
    return program, warnings
