"""`payerpolicy lsp` driven by a real Language Server Protocol client (pygls's), over standard input and output,
on a copy of the example payer: diagnostics as the author types (from the unsaved text), hover, go to
definition and completion. Needs the `lsp` extra; skips without it unless PAYERPOLICY_REQUIRE_OPTIONAL=1."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

try:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient
except ImportError:
    if os.environ.get("PAYERPOLICY_REQUIRE_OPTIONAL") == "1":
        raise
    pytest.skip("the `lsp` extra (pygls) is not installed: pip install -e '.[lsp]'", allow_module_level=True)


def _copy_policy(tmp_path: Path) -> Path:
    folder = tmp_path / "policies" / "example-commercial"
    shutil.copytree(ROOT / "policies" / "example-commercial", folder)
    shutil.copytree(ROOT / "policies" / "medicare", tmp_path / "policies" / "medicare")
    return folder / "policy.yaml"


async def _session(tmp_path: Path, steps, log: list | None = None):
    """Run `steps` against a server; `published` holds each file's latest diagnostics, `log` every publish."""
    client = LanguageClient("payerpolicy-tests", "1")
    published: dict[str, list] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams):
        published[params.uri] = params.diagnostics
        if log is not None:
            log.append((params.uri, list(params.diagnostics)))
        arrived.set()

    await client.start_io(
        sys.executable, "-m", "payerpolicy", "lsp", cwd=str(tmp_path), env={**os.environ, "PAYERPOLICY_CACHE": "off"}
    )
    try:
        await client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri())
        )
        client.initialized(types.InitializedParams())
        return await steps(client, published, arrived)
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


async def _wait(arrived: asyncio.Event) -> None:
    await asyncio.wait_for(arrived.wait(), timeout=60)
    arrived.clear()


def test_diagnostics_follow_the_unsaved_text(tmp_path):
    policy = _copy_policy(tmp_path)
    uri = policy.resolve().as_uri()
    text = policy.read_text()

    async def steps(client, published, arrived):
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
            )
        )
        await _wait(arrived)
        clean = list(published[uri])
        broken = text.replace("max_units: 3", "max_units: three")
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)],
            )
        )
        await _wait(arrived)
        return clean, list(published[uri]), broken

    clean, found, broken = asyncio.run(_session(tmp_path, steps))
    assert clean == []
    [problem] = found
    line = next(i for i, l in enumerate(broken.splitlines()) if "max_units: three" in l)
    assert problem.code == "E203" and "whole number" in problem.message
    assert problem.range.start.line == line and problem.range.start.character == broken.splitlines()[line].index(
        "three"
    )
    assert policy.read_text() == text  # nothing was written to disk


def test_hover_definition_and_completion(tmp_path):
    policy = _copy_policy(tmp_path)
    uri = policy.resolve().as_uri()
    text = policy.read_text()
    lines = text.splitlines()
    rule_line = next(i for i, l in enumerate(lines) if "id: example-commercial.unit-cap.97112" in l)
    code_line = next(i for i, l in enumerate(lines) if "codes: 97112" in l)

    async def steps(client, published, arrived):
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
            )
        )
        await _wait(arrived)
        document = types.TextDocumentIdentifier(uri=uri)
        at_rule = types.Position(line=rule_line, character=lines[rule_line].index("example-commercial") + 3)
        at_code = types.Position(line=code_line, character=lines[code_line].index("97112") + 1)
        rule_hover = await client.text_document_hover_async(types.HoverParams(text_document=document, position=at_rule))
        code_hover = await client.text_document_hover_async(types.HoverParams(text_document=document, position=at_code))
        place = await client.text_document_definition_async(
            types.DefinitionParams(text_document=document, position=at_rule)
        )
        completion = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=document, position=types.Position(line=code_line, character=len(lines[code_line]))
            )
        )
        return rule_hover, code_hover, place, completion

    rule_hover, code_hover, place, completion = asyncio.run(_session(tmp_path, steps))
    assert "rule `example-commercial.unit-cap.97112`: unit_cap, deny" in rule_hover.contents.value
    assert "fictional plan figure" not in code_hover.contents.value  # a code's hover lists rules, not one
    assert "procedure code 97112" in code_hover.contents.value
    assert "`example-commercial.unit-cap.97112`" in code_hover.contents.value
    assert place.uri == uri and place.range.start.line == rule_line
    labels = {item.label for item in completion.items}
    assert {"units", "line.modifiers", "claim.payer"} <= labels
    assert any(label.startswith("@") for label in labels)  # the policy's code sets, Medicare's included


def test_typing_is_checked_once_it_pauses_not_on_every_keystroke(tmp_path):
    policy = _copy_policy(tmp_path)
    uri = policy.resolve().as_uri()
    text = policy.read_text()
    counts: list[int] = []
    log: list = []

    def seen() -> list[list]:
        return [diagnostics for where, diagnostics in log if where == uri]

    async def steps(client, published, arrived):
        def change(version: int, new_text: str) -> None:
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=new_text)],
                )
            )

        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
            )
        )
        await _wait(arrived)
        counts.append(len(seen()))
        # "three" typed one keystroke at a time: five changes far quicker than the pause the server waits for.
        word = "three"
        for i in range(1, len(word) + 1):
            change(i + 1, text.replace("max_units: 3", f"max_units: {word[:i]}"))
        await _wait(arrived)
        await asyncio.sleep(1.5)  # time for any further check to arrive
        counts.append(len(seen()))
        # After a pause, the next change is checked in its turn.
        change(20, text)
        await _wait(arrived)
        counts.append(len(seen()))

    asyncio.run(_session(tmp_path, steps, log))
    assert counts == [1, 2, 3]  # one check for the open, one for the five keystrokes, one after the pause
    [problem] = seen()[1]
    assert problem.code == "E203" and "`three`" in problem.message  # the last keystroke's text was checked
    assert seen()[2] == []


def test_format_document_gives_the_layout_of_fmt(tmp_path):
    from payerpolicy.policy.layout import lay_out

    policy = _copy_policy(tmp_path)
    uri = policy.resolve().as_uri()
    shipped = policy.read_text()
    messy = shipped.replace("[59, XS]", "[59,XS]").replace("policy:\n", "policy:    \n", 1)
    assert messy != shipped and lay_out(messy) == shipped

    async def steps(client, published, arrived):
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=messy)
            )
        )
        await _wait(arrived)
        options = types.FormattingOptions(tab_size=2, insert_spaces=True)
        document = types.TextDocumentIdentifier(uri=uri)
        edits = await client.text_document_formatting_async(
            types.DocumentFormattingParams(text_document=document, options=options)
        )
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text="a: [1\n")],
            )
        )
        broken = await client.text_document_formatting_async(
            types.DocumentFormattingParams(text_document=document, options=options)
        )
        return edits, broken

    edits, broken = asyncio.run(_session(tmp_path, steps))
    [edit] = edits
    assert edit.new_text == shipped and edit.range.start.line == 0
    assert edit.range.end.line == len(messy.split("\n"))
    assert broken is None  # not YAML: no edit; the diagnostics say why
