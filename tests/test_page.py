"""The page of `payerpolicy serve`, in a real browser: a billing specialist's path end to end.

Playwright drives the system's Chromium (Debian's `chromium` or `chromium-headless-shell`; Playwright's own
browser download is not used). Without Playwright, the extra `server` or a browser, these tests skip saying
what is missing, unless PAYERPOLICY_REQUIRE_OPTIONAL=1 (CI), where they fail."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")

# 97112 for 4 units: the fictional commercial plan denies past 3 a day (and proposes 3).
CLAIM = {
    "id": "C-77",
    "payer": "example-commercial",
    "patient": {"id": "P-1"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "diagnoses": ["I69.351"],
    "lines": [{"code": "97112", "modifiers": ["GP"], "units": 4, "minutes": 60, "date": "2026-03-02"}],
}


def _browser_path() -> str | None:
    given = os.environ.get("PAYERPOLICY_CHROMIUM")
    if given:
        return given if os.path.isfile(given) else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def live_server(live_service, tmp_path_factory):
    """The service over a copy of the commercial payer's folder (so nothing a test does touches the shipped files)."""
    from payerpolicy.service import ServiceSettings

    payers = tmp_path_factory.mktemp("payers")
    shutil.copytree(ROOT / "policies" / "example-commercial", payers / "example-commercial")
    with live_service(ServiceSettings(policies=(str(payers),), reload_interval=0)) as base:
        yield base


@pytest.fixture(scope="module")
def browser(optional_module, missing_optional_part):
    optional_module("playwright", "pip install '.[server,test-server]'")
    from playwright.sync_api import sync_playwright

    path = _browser_path()
    if path is None:
        missing_optional_part("no Chromium found (apt-get install chromium, or set PAYERPOLICY_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    outside = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    page.goto(live_server + "/")
    yield page
    context.close()
    assert outside == [], f"the page asked for something outside the service: {outside}"


def _claim_row(page):
    return page.locator("#results article.claim").first


def test_a_specialist_sees_the_denial_fixes_the_cap_and_sees_it_pass(page, tmp_path):
    page.select_option("#payer", "example-commercial")
    page.fill("#claims", json.dumps(CLAIM))
    page.click("#check")
    claim = _claim_row(page)
    claim.locator(".badge.denied").first.wait_for()
    findings = claim.locator("table.findings")
    assert "3 units" in findings.inner_text() or "3" in findings.inner_text()
    assert "example-commercial.unit-cap.97112" in findings.inner_text()

    # Open the rule behind the finding: the editor shows its file with the rule selected.
    claim.get_by_role("button", name="example-commercial.unit-cap.97112").click()
    assert page.input_value("#policy-file") == "policy.yaml"
    editor = page.locator("#policy-text")
    selected = editor.evaluate("a => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert "example-commercial.unit-cap.97112" in selected

    # A typo is underlined in place and listed with its place and a hint.
    text = editor.input_value()
    editor.fill(text.replace("max_units: 3", "max_unit: 3"))
    page.locator("#backdrop mark.error").first.wait_for()
    assert page.locator("#backdrop mark.error").first.inner_text().startswith("max_unit")
    listed = page.locator("#diagnostics li").first.inner_text()
    assert "E201" in listed and "policy.yaml:" in listed and "max_units" in listed
    assert "does not load" in page.inner_text("#lint-state")

    # The cap raised to 4: the same claim is accepted, and the page says what the edit changed.
    editor.fill(text.replace("max_units: 3", "max_units: 4"))
    page.wait_for_function("document.getElementById('change-summary').textContent.includes('denied → accepted')")
    assert page.locator("#backdrop mark").count() == 0
    assert _claim_row(page).locator("h3 .badge").inner_text().lower() == "accepted"
    assert "was denied" in _claim_row(page).inner_text()
    assert "not saved" in page.inner_text("#edit-note") and page.locator("#save").is_hidden()

    page.evaluate("window.scrollTo(0, 0)")
    table = _claim_row(page).locator("table.findings")
    box = table.bounding_box()
    assert table.is_visible() and box is not None and box["y"] + 40 < 800, "the findings table is not on screen"
    shot = Path(os.environ.get("PAYERPOLICY_SCREENSHOTS", tmp_path)) / "page.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    # Basic layout at 1280x800: nothing wider than the window, the findings table on screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    overflowing = page.evaluate("""() => [...document.querySelectorAll('section, table, .editor')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.id || e.className)""")
    assert overflowing == []


def test_beside_the_decisions_the_page_sums_up_what_an_edit_changes(page):
    # Two claims, one the cap touches: what changes, the billed charges at stake, and the rule behind it.
    capped = {**CLAIM, "lines": [{**CLAIM["lines"][0], "charge": 200}]}
    other = {
        **CLAIM,
        "id": "C-78",
        "patient": {"id": "P-2"},
        "lines": [
            {"code": "97110", "modifiers": ["GP"], "units": 2, "minutes": 30, "date": "2026-03-02", "charge": 90}
        ],
    }
    page.select_option("#payer", "example-commercial")
    page.fill("#claims", json.dumps(capped) + "\n" + json.dumps(other))
    page.click("#check")
    _claim_row(page).locator(".badge.denied").first.wait_for()
    assert page.locator("#impact").is_hidden()  # nothing edited, nothing to sum up
    page.wait_for_function("document.getElementById('policy-text').value.includes('max_units: 3')")
    editor = page.locator("#policy-text")
    text = editor.input_value()

    editor.fill(text.replace("max_units: 3", "max_units: 4", 1))  # the cap raised: the 4 units are allowed
    page.locator("#impact tr[data-kind='units_changed']").wait_for()
    impact = page.locator("#impact")
    assert impact.is_visible()
    assert "1 line on 1 claim decided differently, of 2 claims (2 lines)" in impact.inner_text()
    row = page.locator("#impact tr[data-kind='units_changed']").inner_text().split("\t")
    assert row == ["Units allowed changed", "1", "1", "$200.00"]
    assert (
        "Money at stake (billed charges of lines whose status changes): $200.00; newly denied $0.00, "
        "newly passed $0.00" in impact.inner_text()
    )
    rule = page.locator("#impact tr[data-rule='example-commercial.unit-cap.97112']")
    assert rule.inner_text().split("\t")[1:] == ["0 lines", "1 line"]  # no longer fires on the 4-unit line
    assert "Claim C-77" in page.inner_text("#results")  # the decisions stay beside the summary

    editor.fill(text.replace("max_units: 3", "max_units: 0", 1))  # no unit at all: the line is denied
    page.locator("#impact tr[data-kind='newly_denied']").wait_for()
    assert page.locator("#impact tr[data-kind='units_changed']").count() == 0
    assert "newly denied $200.00" in impact.inner_text()

    # The rule behind the change opens in the editor, selected.
    editor.fill(text.replace("max_units: 3", "max_units: 4", 1))
    page.locator("#impact tr[data-kind='units_changed']").wait_for()
    page.locator("#impact").get_by_role("button", name="example-commercial.unit-cap.97112").click()
    selected = editor.evaluate("a => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert "example-commercial.unit-cap.97112" in selected

    page.click("#reset")  # back to the saved policy: nothing to sum up
    page.wait_for_function("document.getElementById('impact').hidden")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_base_rule_behind_a_finding_opens_read_only_with_where_the_payer_overrides_it(page):
    # The commercial plan extends Medicare: the advisory on the certifying NPI is Medicare's rule.
    page.select_option("#payer", "example-commercial")
    page.fill("#claims", json.dumps(CLAIM))
    page.click("#check")
    claim = _claim_row(page)
    claim.locator(".badge.denied").first.wait_for()
    claim.get_by_role("button", name="medicare.plan-of-care.certifying-npi").click()
    assert page.input_value("#policy-file") == "@medicare/plan-of-care.yaml"
    editor = page.locator("#policy-text")
    assert editor.evaluate("a => a.readOnly")
    assert "medicare.plan-of-care.certifying-npi" in editor.evaluate(
        "a => a.value.slice(a.selectionStart, a.selectionEnd)"
    )
    note = page.inner_text("#base-note")
    assert "medicare's, the base policy example-commercial extends: read only here" in note
    assert "--allow-edits" in note  # how to change it, as this service does not save edits
    before = editor.input_value()
    editor.press("End")
    page.keyboard.type("x")
    assert editor.input_value() == before  # read only: nothing typed lands

    # Medicare's 97112 cap, which the commercial plan removes in its own policy.yaml (and caps itself).
    page.select_option("#policy-file", "@medicare/caps.yaml")
    removed = page.locator("#overrides li[data-rule='medicare.unit-cap.97112']")
    assert "example-commercial removes it, at policy.yaml:" in removed.inner_text()
    removed.get_by_role("button").click()
    assert page.input_value("#policy-file") == "policy.yaml" and not editor.evaluate("a => a.readOnly")
    selected = editor.evaluate("a => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert "medicare.unit-cap.97112" in selected and page.locator("#base-note").is_hidden()
    # From the payer's own file, the overrides it holds open the base's rule.
    page.click("#overrides summary")
    page.locator("#overrides li[data-rule='medicare.unit-cap.97112']").get_by_role("button").click()
    assert page.input_value("#policy-file") == "@medicare/caps.yaml"
    assert "medicare.unit-cap.97112" in editor.evaluate("a => a.value.slice(a.selectionStart, a.selectionEnd)")


def test_the_page_reads_an_837_and_works_by_keyboard(page):
    x12 = (ROOT / "tests" / "samples" / "x12" / "therapy_pt_ot_medicare.837").read_text()
    page.select_option("#payer", "medicare")
    page.fill("#claims", x12)
    page.focus("#claims")
    page.keyboard.press("Control+Enter")
    page.locator("#results article.claim").first.wait_for()
    assert page.locator("#results article.claim").count() >= 1
    assert page.locator("#results table.lines").first.is_visible()
    # Tab leaves the claims box to the buttons, in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "check"


def test_with_edits_allowed_a_clean_edit_is_saved_and_judges_at_once(browser, live_service, tmp_path):
    from payerpolicy.service import ServiceSettings

    shutil.copytree(ROOT / "policies" / "example-commercial", tmp_path / "example-commercial")
    policy_file = tmp_path / "example-commercial" / "policy.yaml"
    with live_service(ServiceSettings(policies=(str(tmp_path),), reload_interval=0, allow_edits=True)) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(base + "/")
        page.wait_for_selector("#payer option[value='example-commercial']", state="attached")
        page.select_option("#payer", "example-commercial")
        page.fill("#claims", json.dumps(CLAIM))
        page.click("#check")
        _claim_row(page).locator("h3 .badge.denied").wait_for()
        assert "not saved" not in page.inner_text("#edit-note")
        editor = page.locator("#policy-text")
        page.wait_for_function("document.getElementById('policy-text').value.includes('max_units: 3')")
        editor.fill(editor.input_value().replace("max_units: 3", "max_units: 4"))
        page.wait_for_function("document.getElementById('change-summary').textContent.includes('denied → accepted')")
        page.click("#save")
        page.wait_for_function("document.getElementById('service-state').textContent.startsWith('Saved')")
        assert "max_units: 4" in policy_file.read_text()
        assert policy_file.with_name("policy.yaml.previous").exists()
        _claim_row(page).locator("h3 .badge.accepted").wait_for()
        # The saved policy itself now accepts the claim: no change is left to show (cleared once the page has
        # compared again, which may come a moment after the new decision).
        page.wait_for_function("document.getElementById('change-summary').textContent === ''")
        # With edits allowed, a base file offers to be edited as its own payer.
        page.select_option("#policy-file", "@medicare/caps.yaml")
        page.get_by_role("button", name="Edit it as payer medicare").click()
        page.wait_for_function("document.getElementById('policy-file').value === 'caps.yaml'")
        assert page.input_value("#payer") == "medicare"
        assert not page.locator("#policy-text").evaluate("a => a.readOnly")
        context.close()
