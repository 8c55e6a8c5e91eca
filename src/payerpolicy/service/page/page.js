// The page of `payerpolicy serve`: paste claims, read each line's decision, edit the payer's policy and see
// which decisions the edit changes. Plain JavaScript, no library: everything it shows comes from the
// service's own /v1 routes (OpenAPI at /openapi.json).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem("payerpolicy-token") || "",
  payer: "",
  files: [],          // [{path, file, text}] as saved; a base policy's files too, with `base` (its payer)
  overrides: [],      // the base's rules the payer removes or replaces, and where
  edits: {},          // path -> edited text
  current: "",        // the path in the editor
  diagnostics: [],    // of the last lint
  seq: 0,             // answers to requests older than the newest are dropped
};

const EXAMPLE = {
  "id": "C-1", "payer": "medicare", "patient": {"id": "P-1"},
  "provider": {"npi": "1234567893", "type": "PT"}, "diagnoses": ["I69.351"],
  "lines": [
    {"code": "97112", "modifiers": ["GP"], "units": 4, "minutes": 60, "date": "2026-03-02"},
    {"code": "97110", "units": 1, "minutes": 15, "date": "2026-03-02"}
  ]
};

async function call(method, path, body, type) {
  const headers = {};
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const answer = await fetch(path, {method, headers, body});
  if (answer.status === 401) {
    $("token-box").hidden = false;
    throw new Error("this service needs its token: enter it above");
  }
  const text = await answer.text();
  let data = null;
  try { data = JSON.parse(text); } catch (e) { data = {error: text}; }
  return {status: answer.status, data};
}

function say(text) { $("service-state").textContent = text; }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined)
    node.append(child instanceof Node ? child : String(child));
  return node;
}

// ---------------------------------------------------------------------------------------------- payers

async function loadPayers() {
  const {status, data} = await call("GET", "/v1/policies");
  if (status !== 200) { say(data.error || "the service did not answer"); return; }
  state.known = data.policies;
  const select = $("payer");
  select.replaceChildren();
  for (const p of data.policies) {
    select.append(el("option", {value: p.payer}, p.payer + (p.version ? " " + p.version : "")));
  }
  const chosen = data.policies.find((p) => p.payer === state.payer) || data.policies.find((p) => p.payer === "medicare") || data.policies[0];
  if (chosen) { select.value = chosen.payer; await choosePayer(chosen.payer, data.policies); }
}

async function choosePayer(payer, known) {
  state.payer = payer;
  state.edits = {};
  showImpact(null);
  const info = (known || state.known || []).find((p) => p.payer === payer);
  if (info) {
    const stale = info.state === "stale" ? " (its files do not load now: the last good version is serving)" : "";
    const from = info.effective && info.effective.from ? `in force from ${info.effective.from}` : "in force";
    $("payer-state").textContent = info.state === "failed" ? "its files do not load: see the diagnostics"
      : `${info.name || payer}, ${info.rules} rules, ${from}${stale}`;
  }
  const {status, data} = await call("GET", `/v1/policies/${encodeURIComponent(payer)}/files`);
  if (status !== 200) { say(data.error); return; }
  // A base policy's files are keyed "@base/path", so they never collide with the payer's own, and never
  // go into an edit of this payer (they are read only here).
  const bases = (data.bases || []).flatMap((b) => b.files.map((f) => ({...f, path: `@${b.payer}/${f.path}`, base: b.payer})));
  state.files = data.files.concat(bases);
  state.overrides = data.overrides || [];
  state.editable = data.editable;
  $("save").hidden = !data.editable;
  if (data.editable) $("edit-note").textContent = "Edits are tried against the claims as you type; Save writes them " +
    "to the policy files (only when the policy loads; each file replaced is kept as NAME.previous).";
  const select = $("policy-file");
  select.replaceChildren(el("optgroup", {label: `${payer}'s own files`}, ...data.files.map((f) => el("option", {value: f.path}, f.path))),
    ...(data.bases || []).map((b) => el("optgroup", {label: `${b.payer}: the base it extends (read only here)`},
      ...b.files.map((f) => el("option", {value: `@${b.payer}/${f.path}`}, `${b.payer}/${f.path}`)))));
  openFile(data.files.some((f) => f.path === "policy.yaml") ? "policy.yaml" : (data.files[0] || {}).path, null);
  showDiagnostics([]);
  if ($("claims").value.trim()) await checkClaims();
}

// ---------------------------------------------------------------------------------------------- editor

function savedText(path) { return (state.files.find((f) => f.path === path) || {}).text || ""; }
function editorText(path) { return path in state.edits ? state.edits[path] : savedText(path); }

function openFile(path, line) {
  if (!path) return;
  state.current = path;
  $("policy-file").value = path;
  const area = $("policy-text");
  area.value = editorText(path);
  const shown = state.files.find((f) => f.path === path) || {};
  area.readOnly = Boolean(shown.base);
  showBaseNote(shown);
  paintUnderlines();
  if (line) {
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    area.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(area).lineHeight));
    syncScroll();
  }
}

// Over a base policy's file: whose it is, and where the payer removes or replaces its rules. Over the
// payer's own file: the base rules it overrides there, each opening the base's rule.
function showBaseNote(shown) {
  const note = $("base-note"), list = $("overrides");
  if (shown.base) {
    const edit = state.editable ? el("button", {type: "button", class: "secondary",
      onclick: () => editBase(shown)}, `Edit it as payer ${shown.base}`) : null;
    note.replaceChildren(`This file is ${shown.base}'s, the base policy ${state.payer} extends: read only here. ` +
      `A change to it changes every payer built on ${shown.base}. `, edit ||
      `To change it, start the service with --allow-edits and choose payer ${shown.base}.`);
  }
  note.hidden = !shown.base;
  const here = state.overrides.filter((o) => shown.base ? o.base.file === shown.file : o.file === shown.file);
  const items = here.map((o) => {
    const own = o.file ? fileOfDisplay(o.file) : null, base = fileOfDisplay(o.base.file);
    const verb = o.how === "removed" ? "removes" : "replaces";
    return shown.base
      ? el("li", {"data-rule": o.rule}, `${o.rule} (line ${o.base.line}): ${state.payer} ${verb} it, `,
          own ? el("button", {type: "button", class: "link", onclick: () => openFile(own, o.line)},
                   `at ${o.file.split("/").pop()}:${o.line}`) : "in its files")
      : el("li", {"data-rule": o.rule}, `line ${o.line} ${verb} the base rule `,
          base ? el("button", {type: "button", class: "link", onclick: () => openFile(base, o.base.line)}, o.rule) : o.rule);
  });
  const bases = [...new Set(state.files.filter((f) => f.base).map((f) => f.base))].join(", ");
  // Over a base file the overrides are what the reader looks for; over the payer's own file, a summary to open.
  list.replaceChildren(shown.base ? el("ul", {}, ...items)
    : el("details", {}, el("summary", {}, `This file overrides ${here.length} rule${here.length === 1 ? "" : "s"} of ${bases}`), el("ul", {}, ...items)));
  list.hidden = here.length === 0;
}

async function editBase(shown) {
  const path = shown.path.slice(shown.base.length + 2), line = lineOfSelection();
  $("payer").value = shown.base;
  await choosePayer(shown.base, null);
  openFile(path, line);
}

function lineOfSelection() {
  const area = $("policy-text");
  return area.value.slice(0, area.selectionStart).split("\n").length;
}

function fileOfDisplay(display) {
  // The file named exactly first: a base's policy.yaml must not be taken for the payer's own.
  const f = state.files.find((f) => f.file === display) ||
    state.files.find((f) => !f.base && display.endsWith("/" + f.path));
  return f ? f.path : null;
}

function paintUnderlines() {
  const text = $("policy-text").value;
  const shown = state.files.find((f) => f.path === state.current);
  const lines = text.split("\n");
  const marks = state.diagnostics.filter((d) => shown && d.file && (d.file === shown.file) && d.line);
  const out = [];
  lines.forEach((line, i) => {
    const here = marks.filter((d) => d.line === i + 1).sort((a, b) => a.column - b.column);
    let at = 0;
    for (const d of here) {
      const start = Math.max(at, d.column - 1);
      let end = d.end_line === d.line && d.end_column ? d.end_column - 1 : line.length;
      if (end <= start) end = Math.min(line.length, start + 1) || start + 1;
      out.push(escapeHtml(line.slice(at, start)));
      out.push(`<mark class="${d.severity}">${escapeHtml(line.slice(start, end) || " ")}</mark>`);
      at = Math.max(at, end);
    }
    out.push(escapeHtml(line.slice(at)) + "\n");
  });
  $("backdrop").innerHTML = out.join("");
  syncScroll();
}

function escapeHtml(s) { return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
function syncScroll() { const a = $("policy-text"), b = $("backdrop"); b.scrollTop = a.scrollTop; b.scrollLeft = a.scrollLeft; }

function showDiagnostics(found, ok) {
  state.diagnostics = found;
  const list = $("diagnostics");
  list.replaceChildren(...found.map((d) => {
    const path = d.file ? fileOfDisplay(d.file) : null;
    const where = d.file ? `${d.file}:${d.line}:${d.column}` : "";
    return el("li", {},
      el("span", {class: `code ${d.severity}-code`}, d.code), " ",
      path ? el("button", {class: "link", type: "button", onclick: () => openFile(path, d.line)}, where) : where,
      ": ", d.message, d.help ? el("div", {class: "muted"}, "help: " + d.help) : null);
  }));
  const lint = $("lint-state");
  if (ok === undefined) { lint.textContent = ""; lint.className = ""; }
  else if (ok) { lint.textContent = Object.keys(state.edits).length ? "Your edit loads." : "The policy loads."; lint.className = "ok"; }
  else { lint.textContent = `Your edit does not load (${found.filter((d) => d.severity === "error").length} errors): decisions below are the saved policy's.`; lint.className = "bad"; }
  paintUnderlines();
}

let typing = null;
function edited() {
  const text = $("policy-text").value;
  if (text === savedText(state.current)) delete state.edits[state.current]; else state.edits[state.current] = text;
  clearTimeout(typing);
  typing = setTimeout(tryEdits, 450);
}

async function tryEdits() {
  const seq = ++state.seq;
  const claims = $("claims").value;
  if (!claims.trim()) {
    $("lint-state").textContent = "Checking the policy...";
    const {status, data} = await call("POST", "/v1/lint", JSON.stringify({payer: state.payer, files: state.edits}));
    if (seq !== state.seq) return;
    if (status !== 200) { say(data.error); return; }
    showDiagnostics(data.policies[0].diagnostics, data.policies[0].ok);
    return;
  }
  $("lint-state").textContent = "Trying your edit on the claims...";
  const draft = JSON.stringify({payer: state.payer, files: state.edits, claims});
  const edits = Object.keys(state.edits).length > 0;
  // The decisions side by side (/v1/try) and, with an edit, what it changes in sum (/v1/diff), asked at once.
  const [tried, diffed] = await Promise.all([call("POST", "/v1/try", draft),
                                            edits ? call("POST", "/v1/diff", draft) : null]);
  if (seq !== state.seq) return;
  const {status, data} = tried;
  if (status !== 200) { say(data.error); return; }
  showDiagnostics(data.lint.diagnostics, data.lint.ok);
  if (data.draft && edits) showDecisions(data.draft, data.saved);
  else showDecisions(data.saved, null);
  if (diffed && diffed.status !== 200) say(diffed.data.error);
  showImpact(diffed && diffed.status === 200 ? diffed.data.diff : null);
}

// ---------------------------------------------------------------------------------------------- impact

const CHANGE_WORDS = {
  newly_denied: "Newly denied", newly_passed: "Newly passed", denied_for_another_reason: "Denied for another reason",
  units_changed: "Units allowed changed", fixes_changed: "What to do changed", warnings_changed: "Warnings changed",
};
const dollars = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD"});
function plural(n, word) { return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`; }

// Where each rule of the diff is written, from the findings and the changed rules it carries.
function ruleSources(impact) {
  const found = {};
  for (const r of impact.policy_changes.rules.changed.concat(impact.policy_changes.rules.added)) found[r.id] = r.source;
  for (const claim of impact.claims) for (const line of claim.lines || [])
    for (const side of [line.old, line.new]) for (const f of (side && side.findings) || []) found[f.rule] = found[f.rule] || f.source;
  return found;
}

function ruleLink(rule, sources) {
  const src = sources[rule] || {};
  const path = src.file ? fileOfDisplay(src.file) : null;
  return path ? el("button", {class: "link", type: "button", title: `open ${src.file} at line ${src.line}`,
                              onclick: () => openFile(path, src.line)}, rule) : rule;
}

function showImpact(impact) {
  const box = $("impact");
  if (!impact) { box.hidden = true; $("impact-body").replaceChildren(); return; }
  const s = impact.summary, money = s.money, sources = ruleSources(impact);
  const parts = [el("p", {class: "impact-head"}, s.lines_changed
    ? `${plural(s.lines_changed, "line")} on ${plural(s.claims_changed, "claim")} decided differently, of ${plural(s.claims, "claim")} (${plural(s.lines, "line")}).`
    : `No decision changes on these ${plural(s.claims, "claim")}.`)];
  const kinds = Object.entries(s.by_kind).filter(([, n]) => n.lines);
  if (kinds.length) {
    parts.push(el("table", {class: "impact-kinds"},
      el("thead", {}, el("tr", {}, ...["Change", "Lines", "Claims", "Billed charges"].map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, ...kinds.map(([kind, n]) => el("tr", {"data-kind": kind}, el("td", {}, CHANGE_WORDS[kind] || kind),
        el("td", {}, n.lines), el("td", {}, n.claims), el("td", {}, dollars.format(n.charges)))))));
    const bare = money.lines_without_charge;
    const unpriced = bare ? ` (${plural(bare, "line")} of those ${bare === 1 ? "carries" : "carry"} no charge)` : "";
    parts.push(el("p", {class: "money"}, `Money at stake (billed charges of lines whose status changes): ` +
      `${dollars.format(money.at_stake_charges)}; newly denied ${dollars.format(money.newly_denied_charges)}, ` +
      `newly passed ${dollars.format(money.newly_passed_charges)}${unpriced}.`));
    if (money.allowed) parts.push(el("p", {class: "money"}, `Estimated allowed amounts (fee schedule): ` +
      `${dollars.format(money.allowed.at_stake)} at stake; newly denied ${dollars.format(money.allowed.newly_denied)}, ` +
      `newly passed ${dollars.format(money.allowed.newly_passed)}.`));
  }
  const rules = Object.entries(s.by_rule);
  if (rules.length) {
    parts.push(el("table", {class: "impact-rules"},
      el("thead", {}, el("tr", {}, ...["Rule", "Now fires on", "No longer fires on"].map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, ...rules.map(([rule, n]) => el("tr", {"data-rule": rule}, el("td", {}, ruleLink(rule, sources)),
        el("td", {}, plural(n.now_fires, "line")), el("td", {}, plural(n.no_longer_fires, "line")))))));
  }
  if (s.changed_rules_without_effect.length) {
    parts.push(el("p", {class: "muted"}, "Changed rules that change no decision on these claims: ",
      ...s.changed_rules_without_effect.flatMap((rule, i) => [i ? ", " : "", ruleLink(rule, sources)])));
  }
  if (s.unreadable) parts.push(el("p", {class: "muted"}, `${plural(s.unreadable, "claim")} could not be read and are left out.`));
  if (s.other_payers) parts.push(el("p", {class: "muted"}, `${plural(s.other_payers, "claim")} of other payers are left out.`));
  $("impact-body").replaceChildren(...parts);
  box.hidden = false;
}

async function saveEdits() {
  if (!Object.keys(state.edits).length) { say("Nothing to save: no file is edited."); return; }
  const {status, data} = await call("POST", "/v1/save", JSON.stringify({payer: state.payer, files: state.edits}));
  if (status !== 200) {
    say(data.error);
    if (data.diagnostics) showDiagnostics(data.diagnostics, false);
    return;
  }
  const saved = "Saved " + data.saved.join(", ") + ".";
  say(saved);
  const current = state.current;
  await loadPayers();  // the new version, rule count and files; the claims judged again
  openFile(current, null);
  // Judging again said "Checked." over it: what was saved is what the user must still read when all is done.
  say(saved + ($("claims").value.trim() ? " The claims are judged by the saved policy." : ""));
}

// ---------------------------------------------------------------------------------------------- claims

async function checkClaims() {
  const claims = $("claims").value;
  if (!claims.trim()) { say("Paste or drop claims first."); return; }
  if (Object.keys(state.edits).length) { await tryEdits(); return; }
  const seq = ++state.seq;
  showImpact(null);
  say("Checking...");
  // history=off: claims tried here are not the payer's real ones, and must not count in its claim history.
  const {status, data} = await call("POST", `/v1/check?payer=${encodeURIComponent(state.payer)}&history=off`, claims, "text/plain");
  if (seq !== state.seq) return;
  if (!data.claims) { say(data.error || `the service answered ${status}`); $("results").replaceChildren(); return; }
  say(status === 200 ? "Checked." : status === 422 ? "Checked; some claims could not be read." : "No claim could be read.");
  showDecisions(data, null);
}

function statusBadge(status) { return el("span", {class: `badge ${status}`}, status === "error" ? "could not be read" : status); }

function showDecisions(decisions, before) {
  const box = $("results");
  const changes = [];
  box.replaceChildren(...decisions.claims.map((claim, i) => {
    const old = before ? before.claims[i] : null;
    if (old && old.status !== claim.status) changes.push(`${claim.id || "claim " + (i + 1)}: ${old.status} → ${claim.status}`);
    return renderClaim(claim, old);
  }));
  const s = decisions.summary;
  box.prepend(el("p", {class: "muted"}, `${s.claims} claim${s.claims === 1 ? "" : "s"}: ${s.accepted} accepted, ${s.denied} denied, ${s.errors} could not be read` + (before ? " (with your edit)" : "")));
  $("change-summary").textContent = before ? (changes.length ? "Your edit changes " + changes.join("; ") : "Your edit changes no claim's status.") : "";
}

function renderClaim(claim, old) {
  const policy = claim.policy ? ` [${claim.policy.payer} ${claim.policy.version}]` : "";
  const head = el("h3", {}, `Claim ${claim.id || "(no id)"}${policy} `, statusBadge(claim.status),
    old && old.status !== claim.status ? el("span", {class: "was"}, `was ${old.status}`) : null);
  const parts = [head];
  if (claim.errors.length) {
    parts.push(el("ul", {class: "errors"}, ...claim.errors.map((e) => el("li", {}, `${e.field}: ${e.message}`))));
  }
  if (claim.lines.length) {
    const oldLines = old ? Object.fromEntries(old.lines.map((l) => [l.line, l])) : {};
    parts.push(el("table", {class: "lines"},
      el("colgroup", {}, el("col", {class: "c-line"}), el("col", {}), el("col", {class: "c-units"}), el("col", {class: "c-units"}), el("col", {})),
      el("thead", {}, el("tr", {}, ...["Line", "Code", "Billed", "Allowed", "Status"].map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, ...claim.lines.map((l) => {
        const was = oldLines[l.line];
        const changed = was && (was.status !== l.status || was.allowed_units !== l.allowed_units);
        return el("tr", {class: changed ? "changed" : ""}, el("td", {}, l.line), el("td", {}, l.code), el("td", {}, l.billed_units),
          el("td", {}, l.allowed_units), el("td", {}, statusBadge(l.status), changed ? el("span", {class: "was"}, `was ${was.status}`) : null));
      }))));
  }
  if (claim.findings.length) {
    parts.push(el("table", {class: "findings"},
      el("colgroup", {}, el("col", {class: "c-line"}), el("col", {}), el("col", {class: "c-why"})),
      el("thead", {}, el("tr", {}, ...["Line", "Finding and what to do", "Why"].map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, ...claim.findings.map(renderFinding))));
  } else if (claim.status !== "error") {
    parts.push(el("p", {class: "muted"}, "No findings."));
  }
  return el("article", {class: "claim"}, ...parts);
}

const KINDS = {payer_edit: "payer edit", compliance: "compliance", advisory: "advisory"};

function fixText(fix) {
  if (!fix) return "";
  const v = fix.value;
  switch (fix.action) {
    case "add_modifier": return `add modifier ${v} to line ${fix.line}`;
    case "remove_modifier": return `remove modifier ${v} from line ${fix.line}`;
    case "set_units": return `bill ${v} units on line ${fix.line}`;
    case "remove_line": return `remove line ${fix.line}`;
    case "split_line": return `split line ${fix.line}` + (fix.note ? `: ${fix.note}` : "");
    default: return fix.note || `review line ${fix.line}`;
  }
}

function renderFinding(f) {
  const codes = [f.reason.group, f.reason.carc, f.reason.rarc].filter(Boolean).join(" ");
  const src = f.source || {};
  const path = src.file ? fileOfDisplay(src.file) : null;
  const rule = path ? el("button", {class: "link", type: "button", title: `open ${src.file} at line ${src.line}`,
                                    onclick: () => openFile(path, src.line)}, f.rule) : f.rule;
  const fix = fixText(f.fix);
  return el("tr", {}, el("td", {}, f.line),
    el("td", {}, el("span", {class: `sev sev-${f.severity}`}, f.severity.toUpperCase()), " ",
      el("span", {class: "kind"}, `[${KINDS[f.kind] || f.kind}]`), " ", f.message,
      fix ? el("div", {class: "fix"}, "What to do: " + fix) : null),
    el("td", {}, rule, el("div", {class: "muted"}, codes ? "payer codes " + codes : "no payer code"),
      src.cite ? el("div", {class: "muted cite"}, src.cite) : null));
}

// ---------------------------------------------------------------------------------------------- wiring

function wire() {
  $("payer").addEventListener("change", (e) => choosePayer(e.target.value, null).catch(fail));
  $("check").addEventListener("click", () => checkClaims().catch(fail));
  $("example").addEventListener("click", () => { $("claims").value = JSON.stringify(EXAMPLE, null, 1); checkClaims().catch(fail); });
  $("policy-file").addEventListener("change", (e) => openFile(e.target.value, null));
  $("policy-text").addEventListener("input", edited);
  $("policy-text").addEventListener("scroll", syncScroll);
  $("save").addEventListener("click", () => saveEdits().catch(fail));
  $("reset").addEventListener("click", () => { state.edits = {}; openFile(state.current, null); tryEdits().catch(fail); });
  $("token-save").addEventListener("click", () => {
    state.token = $("token").value.trim();
    sessionStorage.setItem("payerpolicy-token", state.token);
    $("token-box").hidden = true;
    loadPayers().catch(fail);
  });
  const area = $("claims");
  area.addEventListener("dragover", (e) => { e.preventDefault(); area.classList.add("dragging"); });
  area.addEventListener("dragleave", () => area.classList.remove("dragging"));
  area.addEventListener("drop", async (e) => {
    e.preventDefault(); area.classList.remove("dragging");
    const file = e.dataTransfer.files[0];
    if (file) { area.value = await file.text(); checkClaims().catch(fail); }
  });
  area.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) checkClaims().catch(fail); });
}

function fail(err) { say(String(err.message || err)); }

wire();
loadPayers().catch(fail);
