"""`payerpolicy lsp`: a language server for policy files (the optional extra `lsp`, built on pygls).

- Diagnostics as the author types: the policy folder of the file is loaded with the editor's unsaved text
  (the same checks as `payerpolicy lint`, nothing written to disk), and each file of the policy gets its
  diagnostics, or an empty list once it is clean.
- Hover on a rule id, a `@code_set`, a procedure code, a modifier or a diagnostic code (E401).
- Go to definition of a rule id or a code set name.
- Completion of the rule language's fields and of code set names (after `@`).
- Formatting ("format document"): the layout of `payerpolicy fmt`, as one edit of the whole text; none when the
  text is not YAML fmt can lay out (the diagnostics already say why).

Hover, definition and completion answer from the policy as it last loaded without errors, so they keep
working while the file has a mistake in it.

Typing sends a change per keystroke, and loading a policy folder with its base takes a few tenths of a
second, so a change is checked only once the author has paused for `DEBOUNCE_SECONDS` (a newer change of the
same folder cancels the one waiting); opening and saving are checked at once. Between two loads most
conditions are the same text, so their parse is reused (`rules.parse.remember`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from payerpolicy import PolicyError, __version__
from payerpolicy.diagnostics import Diagnostic, Span
from payerpolicy.lsp.index import PolicyIndex, word_at
from payerpolicy.policy.layout import LayoutError, lay_out
from payerpolicy.pipeline import display_name, load_program, looks_like_policy_folder, policy_files
from payerpolicy.rules.parse import remember

# How long typing must pause before the folder is checked again. Long enough to skip the keystrokes of a
# word, short enough that the diagnostics seem to follow the typing.
DEBOUNCE_SECONDS = 0.3
# Conditions, values and fixes whose parse is kept between loads: the shipped Medicare policy has about 200.
REMEMBERED_PARSES = 20_000

T = TypeVar("T")

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("payerpolicy", __version__)
        self.indexes: dict[Path, PolicyIndex] = {}  # policy folder -> its index, as it last loaded
        self.waiting: dict[Path, asyncio.TimerHandle] = {}  # policy folder -> its check after a pause
        remember(REMEMBERED_PARSES)

    def folder_of(self, uri: str) -> Path | None:
        path = _path(uri)
        if path is None:
            return None
        folder = path.parent
        return folder if looks_like_policy_folder(folder) else None

    def check_after_pause(self, uri: str) -> None:
        """Check the document's policy once no change has come for `DEBOUNCE_SECONDS`."""
        folder = self.folder_of(uri)
        if folder is None:
            return
        key = folder.resolve()
        waiting = self.waiting.pop(key, None)
        if waiting is not None:
            waiting.cancel()
        try:
            loop = asyncio.get_running_loop()  # pygls calls handlers on its event loop
        except RuntimeError:
            self.check(uri)
            return
        self.waiting[key] = loop.call_later(DEBOUNCE_SECONDS, self._check_waiting, key, uri)

    def _check_waiting(self, key: Path, uri: str) -> None:
        self.waiting.pop(key, None)
        self.check(uri)

    def check(self, uri: str) -> None:
        """Load the document's policy with every open buffer of it, and publish each file's diagnostics."""
        folder = self.folder_of(uri)
        if folder is None:
            return
        waiting = self.waiting.pop(folder.resolve(), None)
        if waiting is not None:  # checked now: the check waiting for a pause would say the same
            waiting.cancel()
        unsaved = {}
        for document in self.workspace.text_documents.values():
            path = _path(document.uri)
            if path is not None and path.parent == folder:
                unsaved[path] = document.source
        found: list[Diagnostic] = []
        try:
            program, warnings = load_program(folder, unsaved=unsaved)
            self.indexes[folder.resolve()] = PolicyIndex.of(program)
            found = list(warnings.diagnostics) if warnings else []
        except PolicyError as error:
            found = list(error.diagnostics)
        files = {display_name(f): f for f in policy_files(folder)}
        by_file: dict[Path, list[types.Diagnostic]] = {path: [] for path in files.values()}
        for d in found:
            path = files.get(d.span.file) if d.span else None
            if path is not None:
                by_file[path].append(_protocol(d))
        for path, diagnostics in by_file.items():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=path.resolve().as_uri(), diagnostics=diagnostics)
            )

    def index_for(self, uri: str) -> PolicyIndex | None:
        folder = self.folder_of(uri)
        return self.indexes.get(folder.resolve()) if folder is not None else None

    def answer(
        self, params: types.HoverParams | types.DefinitionParams, question: Callable[[PolicyIndex, str], T]
    ) -> T | None:
        """The policy index's answer to a hover or definition request about the word under the cursor; None
        when there is no word there, or no policy that has loaded."""
        index = self.index_for(params.text_document.uri)
        document = self.workspace.get_text_document(params.text_document.uri)
        word = word_at(document.source, params.position.line, params.position.character)
        return question(index, word) if index is not None and word else None


def _path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def _protocol(d: Diagnostic) -> types.Diagnostic:
    span = d.span
    assert span is not None
    start = types.Position(line=span.line - 1, character=span.column - 1)
    end_line = span.end_line if span.end_line is not None else span.line
    end_column = span.end_column if span.end_column is not None else span.column + 1
    end = types.Position(line=end_line - 1, character=max(end_column - 1, start.character + 1))
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=message,
        code=d.code,
        source="payerpolicy",
        severity=_SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
    )


def _location(span: Span, base: Path) -> types.Location:
    path = Path(span.file)
    if not path.is_absolute():
        path = (base / path) if (base / path).exists() else Path.cwd() / path
    position = types.Position(line=span.line - 1, character=span.column - 1)
    return types.Location(uri=path.resolve().as_uri(), range=types.Range(start=position, end=position))


def build() -> PolicyServer:
    server = PolicyServer()

    def check_now(ls: PolicyServer, params: types.DidOpenTextDocumentParams | types.DidSaveTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    # Opening and saving a file check its policy at once; typing checks it once the author pauses.
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(check_now)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE)(check_now)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.check_after_pause(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: PolicyServer, params: types.HoverParams) -> types.Hover | None:
        text = ls.answer(params, PolicyIndex.hover)
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: PolicyServer, params: types.DefinitionParams) -> types.Location | None:
        span = ls.answer(params, PolicyIndex.definition)
        return None if span is None else _location(span, Path.cwd())

    server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["@", "."]))(_completion)
    server.feature(types.TEXT_DOCUMENT_FORMATTING)(_formatting)
    return server


def _completion(ls: PolicyServer, params: types.CompletionParams) -> types.CompletionList:
    """The rule language's fields, or after `@` the policy's code set names."""
    index = ls.index_for(params.text_document.uri)
    if index is None:
        return types.CompletionList(is_incomplete=False, items=[])
    document = ls.workspace.get_text_document(params.text_document.uri)
    lines = document.source.splitlines()
    line = lines[params.position.line] if params.position.line < len(lines) else ""
    typed = line[: params.position.character].split()
    after_at = bool(typed) and typed[-1].lstrip("([").startswith("@")
    kinds = {"field": types.CompletionItemKind.Field, "code set": types.CompletionItemKind.Constant}
    items = [
        types.CompletionItem(label=label, kind=kinds[what], detail=detail)
        for label, what, detail in index.completions(after_at)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


def _formatting(ls: PolicyServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    """`payerpolicy fmt`'s layout as one edit of the whole text; none when fmt cannot lay it out."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    try:
        laid_out = lay_out(document.source)
    except LayoutError:
        return None
    if laid_out == document.source:
        return []
    lines = document.source.split("\n")
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(lines), character=0))
    return [types.TextEdit(range=whole, new_text=laid_out)]


def serve() -> None:
    """Speak the protocol on standard input and output, as editors start language servers."""
    build().start_io()
