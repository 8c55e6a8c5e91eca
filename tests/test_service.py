"""`payerpolicy serve`: the HTTP service judges as `payerpolicy check` does, says what went wrong with the
right status, keeps policies fresh without ever serving a broken one, and keeps patient data out of its log.

Needs the extra `server` and httpx (`pip install '.[server,test-server]'`); skips without them (fails under
PAYERPOLICY_REQUIRE_OPTIONAL=1)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import jsonschema
import pytest

from payerpolicy.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")  # newer Starlette prefers httpx2; both work

GOOD = {
    "id": "C-1",
    "payer": "medicare",
    "patient": {"id": "P-SECRET-4711"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "diagnoses": ["I69.351"],
    "lines": [{"code": "97110", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"}],
}
BAD = {"id": "C-2", "payer": "medicare", "provider": {"type": "PT"}, "lines": []}


@pytest.fixture(scope="module")
def web(optional_module):
    optional_module("starlette", "the extra `server`: pip install '.[server,test-server]'")
    optional_module("httpx", "pip install '.[server,test-server]'")
    from starlette.testclient import TestClient

    from payerpolicy.service import ServiceSettings, make_app
    from payerpolicy.service.store import PolicyStore

    def client(settings=None, store=None):
        app = make_app(settings or ServiceSettings(reload_interval=0), store)
        return TestClient(app, base_url="http://127.0.0.1")

    return client, ServiceSettings, PolicyStore


def wait_ready(client, timeout=60):
    deadline = time.monotonic() + timeout
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, "the service did not get ready"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def client(web):
    with web[0]() as c:
        wait_ready(c)
        yield c


def jsonl(*claims) -> bytes:
    return "".join(json.dumps(c) + "\n" for c in claims).encode()


# ---------------------------------------------------------------------------------------- same as the CLI


@pytest.mark.parametrize(
    "sample",
    [
        ROOT / "examples" / "claims.json",
        SAMPLES / "x12" / "therapy_pt_ot_medicare.837",
        SAMPLES / "fhir" / "therapy-bundle.json",
        "jsonl",
    ],
    ids=["claim-json", "x12", "fhir", "jsonl-with-bad-claims"],
)
def test_check_answers_the_bytes_payerpolicy_check_prints(client, sample, tmp_path, monkeypatch, capsys):
    body = jsonl(GOOD, BAD, {**GOOD, "id": "C-3"}) + b"{not json\n" if sample == "jsonl" else sample.read_bytes()
    # The command line names its input by the file's name, the service `body`: a file named so compares whole.
    (tmp_path / "body").write_bytes(body)
    monkeypatch.chdir(tmp_path)
    main(["check", "body", "--format", "json"])
    printed = capsys.readouterr().out
    answered = client.post("/v1/check", content=body)
    assert answered.text == printed
    assert answered.headers["content-type"].startswith("application/json")
    summary = json.loads(printed)["summary"]
    assert summary["claims"] > 0
    assert answered.status_code == (200 if summary["errors"] == 0 else 422)


def test_the_format_is_told_from_the_content_type_or_asked(client):
    x12 = (SAMPLES / "x12" / "therapy_pt_ot_medicare.837").read_bytes()
    by_sniffing = client.post("/v1/check", content=x12)
    by_type = client.post("/v1/check", content=x12, headers={"content-type": "application/edi-x12"})
    assert by_sniffing.text == by_type.text and json.loads(by_type.text)["summary"]["claims"] > 0
    forced = client.post("/v1/check?input_format=json", content=x12)
    assert forced.status_code == 400  # an 837 read as claim JSON: nothing in it is a claim
    assert json.loads(forced.text)["claims"][0]["errors"][0]["field"] == "json"


def test_payer_and_output_format_as_on_the_command_line(client):
    claim = {**GOOD, "lines": [{**GOOD["lines"][0], "code": "97112", "units": 4, "minutes": 60}]}
    medicare = json.loads(client.post("/v1/check", content=jsonl(claim)).text)
    commercial = json.loads(client.post("/v1/check?payer=example-commercial", content=jsonl(claim)).text)
    assert medicare["claims"][0]["status"] == "accepted"
    assert commercial["claims"][0]["status"] == "denied"
    assert any(f["rule"] == "example-commercial.unit-cap.97112" for f in commercial["claims"][0]["findings"])
    text = client.post("/v1/check?payer=example-commercial&format=text", content=jsonl(claim))
    assert text.headers["content-type"].startswith("text/plain") and "Claim C-1" in text.text
    unknown = client.post("/v1/check?payer=acme", content=jsonl(claim))
    assert unknown.status_code == 400 and "acme" in unknown.json()["error"]


# ---------------------------------------------------------------------------------------------- statuses


def test_statuses_say_how_much_of_the_body_was_judged(client):
    assert client.post("/v1/check", content=jsonl(GOOD)).status_code == 200
    mixed = client.post("/v1/check", content=jsonl(GOOD, BAD))
    assert mixed.status_code == 422
    records = json.loads(mixed.text)["claims"]
    assert [r["status"] for r in records] == ["accepted", "error"]
    assert {e["field"] for e in records[1]["errors"]} >= {"patient.id"}
    assert client.post("/v1/check", content=jsonl(BAD)).status_code == 400
    empty = client.post("/v1/check", content=b"  \n")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    assert client.post("/v1/check?received=yesterday", content=jsonl(GOOD)).status_code == 400
    assert client.post("/v1/check?format=pdf", content=jsonl(GOOD)).status_code == 400
    assert client.get("/v1/check").status_code == 405
    assert client.get("/v1/nothing").status_code == 404


def test_a_body_over_the_limit_gets_413_declared_or_streamed(web):
    make, Settings, _ = web
    with make(Settings(reload_interval=0, max_body=1000)) as small:
        wait_ready(small)
        assert small.post("/v1/check", content=jsonl(GOOD)).status_code == 200
        big = jsonl(*[{**GOOD, "id": f"C-{i}"} for i in range(20)])
        declared = small.post("/v1/check", content=big)
        assert declared.status_code == 413 and "smaller batches" in declared.json()["error"]
        streamed = small.post("/v1/check", content=iter([big[:600], big[600:]]))  # chunked: no length given
        assert streamed.status_code == 413


def test_an_unexpected_failure_is_a_500_without_traceback_or_claim_in_the_log(web, monkeypatch, caplog):
    from payerpolicy.service import app as service_app

    def broken(body, *args, **kwargs):
        raise ValueError(f"cannot judge {body[:60]!r}")

    monkeypatch.setattr(service_app, "check_body", broken)
    with web[0]() as c, caplog.at_level(logging.INFO):
        wait_ready(c)
        answer = c.post("/v1/check", content=jsonl(GOOD))
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error in payerpolicy; please report it with what you sent"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "P-SECRET" not in logged and "Traceback" not in caplog.text


def test_a_claim_or_two_is_judged_on_the_event_loop_and_a_large_body_in_a_worker_thread(web, monkeypatch):
    # Handing one claim to a thread and back cost more than judging it (bench/serve_load.py); a large body
    # still goes to a thread, so that /health answers while it is judged.
    from payerpolicy.service import app as service_app

    threaded = []
    real = service_app.anyio.to_thread.run_sync

    async def counted(function, *args, **kwargs):
        threaded.append(function)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(service_app.anyio.to_thread, "run_sync", counted)
    with web[0]() as c:
        wait_ready(c)
        one = c.post("/v1/check", content=jsonl(GOOD))
        assert one.status_code == 200 and json.loads(one.text)["summary"]["claims"] == 1
        assert threaded == []
        many = jsonl(*[{**GOOD, "id": f"C-{i}"} for i in range(40)])
        assert len(many) > service_app.INLINE_BODY
        answer = c.post("/v1/check", content=many)
        assert answer.status_code == 200 and json.loads(answer.text)["summary"]["claims"] == 40
        assert len(threaded) == 1


def test_check_called_past_the_router_still_keeps_the_routers_rules(web, client):
    # POST /v1/check goes straight from the Guard to its handler: other methods still get the router's 405,
    # and the token and Host checks still come first.
    assert client.get("/v1/check").status_code == 405
    assert client.post("/v1/check", content=jsonl(GOOD), headers={"host": "evil.example"}).status_code == 403
    make, Settings, _ = web
    with make(Settings(reload_interval=0, token="a-token-of-enough-length")) as c:
        wait_ready(c)
        assert c.post("/v1/check", content=jsonl(GOOD)).status_code == 401
    answer = client.post("/v1/check?format=text", content=jsonl(GOOD))
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert int(answer.headers["content-length"]) == len(answer.content)


def test_serve_options_reach_the_service(web, monkeypatch, tmp_path, capsys):
    import uvicorn

    import payerpolicy.service

    started, made = {}, []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options))
    real = payerpolicy.service.make_app
    monkeypatch.setattr(payerpolicy.service, "make_app", lambda settings: made.append(settings) or real(settings))
    access = logging.getLogger("payerpolicy.access")
    monkeypatch.setattr(access, "level", access.level)  # put back after the test
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)  # leave the test run's logging alone
    odd = tmp_path / "a=b.sqlite"  # a file name with `=` in it, given with its folder, is a file for every payer
    assert (
        main(
            [
                "serve",
                "--no-access-log",
                "--reload-interval",
                "0",
                "--history",
                f"medicare={tmp_path}/m.sqlite",
                "--history",
                str(odd),
            ]
        )
        == 0
    )
    assert not access.isEnabledFor(logging.INFO)
    assert started["host"] == "127.0.0.1" and started["proxy_headers"] is False
    assert made[0].histories == (("medicare", f"{tmp_path}/m.sqlite"), ("*", str(odd)))
    assert (tmp_path / "m.sqlite").exists() and odd.exists()  # opened at start, not at the first request
    assert main(["serve", "--history", f"nobody={tmp_path}/n.sqlite"]) == 2
    assert "--history names payer `nobody`" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- security


def test_the_access_log_has_no_patient_data(client, caplog):
    with caplog.at_level(logging.INFO, logger="payerpolicy.access"):
        client.post("/v1/check?received=2026-03-03", content=jsonl(GOOD))
    lines = [r.getMessage() for r in caplog.records if r.name == "payerpolicy.access"]
    assert lines and lines[-1].startswith("POST /v1/check 200 ")
    assert not any("P-SECRET" in line or "received" in line or "97110" in line for line in lines)


def test_a_token_is_needed_when_one_is_set_and_checked_in_constant_time(web):
    make, Settings, _ = web
    token = "a-token-of-enough-length"
    with make(Settings(reload_interval=0, token=token)) as c:
        wait_ready(c)
        assert c.post("/v1/check", content=jsonl(GOOD)).status_code == 401
        assert c.post("/v1/check", content=jsonl(GOOD), headers={"authorization": "Bearer wrong"}).status_code == 401
        ok = c.post("/v1/check", content=jsonl(GOOD), headers={"authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        assert c.get("/health").status_code == 200 and c.get("/").status_code == 200  # open: no data there


def test_a_request_for_another_host_name_is_refused_on_loopback(client):
    # A web page cannot reach the service by pointing its own DNS name at 127.0.0.1.
    assert client.get("/v1/policies", headers={"host": "attacker.example:8642"}).status_code == 403
    assert client.get("/v1/policies", headers={"host": "localhost:8642"}).status_code == 200


def test_no_cors_unless_asked(web, client):
    origin = {"origin": "https://portal.example"}
    assert "access-control-allow-origin" not in client.get("/v1/policies", headers=origin).headers
    make, Settings, _ = web
    with make(Settings(reload_interval=0, cors_origins=("https://portal.example",))) as c:
        assert c.get("/health", headers=origin).headers["access-control-allow-origin"] == "https://portal.example"


def test_serve_without_the_extra_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)  # as if not installed
    assert main(["serve"]) == 2
    assert "pip install 'payerpolicy[server]'" in capsys.readouterr().err


def test_serve_refuses_another_address_without_a_token(web, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("PAYERPOLICY_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "PAYERPOLICY_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("PAYERPOLICY_TOKEN", "short")
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "too short" in capsys.readouterr().err
    token = tmp_path / "token"
    token.write_text("a-token-of-enough-length\n")
    token.chmod(0o644)
    assert main(["serve", "--host", "0.0.0.0", "--token-file", str(token)]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_a_slow_body_gets_408_and_a_dropped_one_holds_nothing(web, live_service):
    import socket
    import urllib.request
    from urllib.parse import urlsplit

    _, Settings, _ = web
    with live_service(Settings(reload_interval=0, body_timeout=1.0)) as base:
        address = (urlsplit(base).hostname, urlsplit(base).port)
        head = (
            b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100000\r\n\r\n{"id": '
        )
        with socket.create_connection(address, timeout=30) as slow:
            slow.sendall(head)
            with socket.create_connection(address, timeout=30) as gone:
                gone.sendall(head)
            started = time.monotonic()
            with urllib.request.urlopen(base + "/health", timeout=5) as answer:  # answered meanwhile
                assert answer.status == 200
            reply = slow.recv(300).decode()
            assert reply.startswith("HTTP/1.1 408 ") and time.monotonic() - started < 10
            assert "did not arrive within 1 seconds" in reply
        request = urllib.request.Request(base + "/v1/check", data=jsonl(GOOD), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200


def test_requests_judged_at_once_get_the_answers_they_get_one_by_one(web, live_service):
    import sys
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    bodies = [jsonl(*generate.claims(4, seed=n)) for n in range(12)]
    _, Settings, _ = web
    with live_service(Settings(reload_interval=0)) as base:

        def ask(body):
            request = urllib.request.Request(base + "/v1/check", data=body, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    return answer.read()
            except urllib.error.HTTPError as failed:  # 422 still carries the decisions
                return failed.read()

        one_by_one = [ask(b) for b in bodies]
        with ThreadPoolExecutor(4) as pool:
            at_once = list(pool.map(ask, bodies))
    assert at_once == one_by_one and all(b'"summary"' in a for a in at_once)


# --------------------------------------------------------------------------- dates and history per request

# An evaluation and 97530 on one day in January 2020: an NCCI pair edit that CMS lifted on 2020-01-24, back to
# the first of the month (policies/medicare/code-pairs.yaml). Judged as known on 2020-01-15 it is denied.
LIFTED_PAIR = {
    "id": "E-1",
    "payer": "medicare",
    "patient": {"id": "P-1"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "diagnoses": ["I69.351"],
    "lines": [
        {"code": "97161", "modifiers": ["GP"], "units": 1, "date": "2020-01-10"},
        {"code": "97530", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2020-01-10"},
    ],
}


def test_as_of_and_received_per_request_answer_what_check_answers(client, tmp_path, monkeypatch, capsys):
    body = jsonl(LIFTED_PAIR)
    (tmp_path / "body").write_bytes(body)
    monkeypatch.chdir(tmp_path)
    for dates in (["--as-of", "2020-01-15", "--received", "2020-01-16"], ["--received", "2020-01-16"]):
        main(["check", "body", "--format", "json", *dates])
        printed = capsys.readouterr().out
        query = "&".join(f"{dates[i][2:].replace('-', '_')}={dates[i + 1]}" for i in range(0, len(dates), 2))
        answered = client.post(f"/v1/check?{query}", content=body)
        assert answered.status_code == 200 and answered.text == printed
    then = json.loads(client.post("/v1/check?as_of=2020-01-15", content=body).text)["claims"][0]
    now = json.loads(client.post("/v1/check", content=body).text)["claims"][0]
    assert then["status"] == "denied" and "medicare.pair.evaluation-97530-2020" in [f["rule"] for f in then["findings"]]
    assert now["status"] == "accepted"


@pytest.mark.parametrize(
    "query,named",
    [
        ("as_of=2020-02-30", "as_of"),
        ("as_of=15.01.2020", "as_of"),
        ("received=yesterday", "received"),
        ("as_of=", None),
    ],
)
def test_a_bad_date_is_a_400_that_says_how_to_write_it(client, query, named):
    answer = client.post(f"/v1/check?{query}", content=jsonl(GOOD))
    if named is None:  # empty: the default date
        assert answer.status_code == 200
        return
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{named} is a date written YYYY-MM-DD, not `")
    bad = client.post("/v1/check?history=sometimes", content=jsonl(GOOD))
    assert bad.status_code == 400 and "history is on" in bad.json()["error"]


def test_a_history_per_payer_is_read_and_added_to_unless_a_request_asks_for_none(web, tmp_path):
    from payerpolicy.judge.history import ClaimHistory

    make, Settings, _ = web
    medicare = tmp_path / "medicare.sqlite"
    visit = {**GOOD, "patient": {"id": "P-7"}}
    settings = Settings(reload_interval=0, histories=(("medicare", str(medicare)),))
    with make(settings) as c:
        wait_ready(c)
        assert c.post("/v1/check", content=jsonl({**visit, "id": "V-1"})).status_code == 200
        assert c.post("/v1/check?history=off", content=jsonl({**visit, "id": "V-2"})).status_code == 200
        commercial = {**visit, "id": "X-1", "payer": "example-commercial"}
        assert c.post("/v1/check", content=jsonl(commercial)).status_code == 200
    with ClaimHistory(medicare) as history:
        assert history.claim_ids("P-7") == ["V-1"]  # not the one asked without, nor the other payer's
    assert medicare.stat().st_mode & 0o077 == 0  # made readable by its owner only: it holds patient data

    with pytest.raises(Exception, match="payer `nobody`"):
        make(Settings(reload_interval=0, histories=(("nobody", str(medicare)),)))
    (tmp_path / "junk.sqlite").write_text("not a database")
    with pytest.raises(Exception, match="cannot be used"):
        make(Settings(reload_interval=0, histories=(("*", str(tmp_path / "junk.sqlite")),)))


def test_a_payers_history_counts_its_earlier_claims_over_the_service(web, tmp_path):
    # The commercial plan pays 20 visits a year: the 21st, sent in a request of its own, is denied.
    make, Settings, _ = web
    visits = [
        {
            **GOOD,
            "id": f"V-{day}",
            "payer": "example-commercial",
            "patient": {"id": "P-8"},
            "lines": [{**GOOD["lines"][0], "date": f"2026-02-{day:02d}"}],
        }
        for day in range(1, 21)
    ]
    last = {**visits[0], "id": "V-21", "lines": [{**GOOD["lines"][0], "date": "2026-03-02"}]}
    with make(Settings(reload_interval=0, histories=(("*", str(tmp_path / "all.sqlite")),))) as c:
        wait_ready(c)
        assert c.post("/v1/check", content=jsonl(*visits)).status_code == 200
        alone = json.loads(c.post("/v1/check?history=off", content=jsonl(last)).text)["claims"][0]
        counted = json.loads(c.post("/v1/check", content=jsonl(last)).text)["claims"][0]
    assert "example-commercial.visits.yearly-limit" not in [f["rule"] for f in alone["findings"]]
    assert "example-commercial.visits.yearly-limit" in [f["rule"] for f in counted["findings"]]


# ------------------------------------------------------------------------------------- policies, reloading


def test_policies_lists_names_versions_dates_and_state(client):
    listed = client.get("/v1/policies").json()
    by_payer = {p["payer"]: p for p in listed["policies"]}
    assert by_payer["medicare"]["state"] == "loaded" and by_payer["medicare"]["version"] == "2026.1"
    assert by_payer["example-commercial"]["extends"] == "medicare"
    assert by_payer["example-commercial"]["effective"] == {"from": "2026-01-01", "to": None}
    assert by_payer["medicare"]["rules"] > 30 and by_payer["medicare"]["as_of"] == listed["as_of"]


def _cap_claim(units: int) -> bytes:
    line = {**GOOD["lines"][0], "code": "97112", "units": units, "minutes": 15 * units}
    return jsonl({**GOOD, "payer": "example-commercial", "lines": [line]})


def test_a_changed_policy_is_swapped_in_and_a_broken_one_keeps_the_last_good(web, tmp_path):
    _, _, PolicyStore = web
    payers = tmp_path / "payers"
    shutil.copytree(ROOT / "policies" / "example-commercial", payers / "example-commercial")
    policy_file = payers / "example-commercial" / "policy.yaml"
    original = policy_file.read_text()
    store = PolicyStore([payers], interval=0)
    assert store.refresh()
    from payerpolicy.service.judging import check_body

    def status(units):
        return json.loads(check_body(_cap_claim(units), store.snapshot()).body)["claims"][0]["status"]

    assert status(4) == "denied"
    served = store.snapshot()  # a request in flight keeps the set it started with

    policy_file.write_text(original.replace("max_units: 3", "max_units: 3\n    bogus_key: 1"))
    assert store.refresh()
    state = store.snapshot().state("example-commercial")
    assert state.state == "stale" and state.policy is not None
    assert state.diagnostics[0]["code"] == "E201" and state.diagnostics[0]["file"].endswith("policy.yaml")
    assert status(4) == "denied"  # still the last good policy

    policy_file.write_text(original.replace("max_units: 3", "max_units: 4"))
    assert store.refresh()
    assert store.snapshot().state("example-commercial").state == "loaded"
    assert status(4) == "accepted"
    assert not store.refresh()  # nothing changed since
    assert json.loads(check_body(_cap_claim(4), served).body)["claims"][0]["status"] == "denied"


def test_the_background_thread_reloads_changed_files(web, tmp_path):
    make, Settings, _ = web
    payers = tmp_path / "payers"
    shutil.copytree(ROOT / "policies" / "example-commercial", payers / "example-commercial")
    policy_file = payers / "example-commercial" / "policy.yaml"
    with make(Settings(policies=(str(payers),), reload_interval=0.1)) as c:
        wait_ready(c)
        assert json.loads(c.post("/v1/check", content=_cap_claim(4)).text)["claims"][0]["status"] == "denied"
        policy_file.write_text(policy_file.read_text().replace("max_units: 3", "max_units: 4"))
        deadline = time.monotonic() + 30
        while json.loads(c.post("/v1/check", content=_cap_claim(4)).text)["claims"][0]["status"] != "accepted":
            assert time.monotonic() < deadline, "the changed policy was not reloaded"
            time.sleep(0.1)


def test_a_payer_that_never_loaded_is_a_503_with_its_diagnostics(web, tmp_path):
    make, Settings, _ = web
    payers = tmp_path / "payers"
    shutil.copytree(ROOT / "policies" / "example-commercial", payers / "example-commercial")
    policy_file = payers / "example-commercial" / "policy.yaml"
    policy_file.write_text(policy_file.read_text().replace("max_units: 3", "max_units: three"))
    with make(Settings(policies=(str(payers),), reload_interval=0)) as c:
        wait_ready(c)
        states = {p["payer"]: p for p in c.get("/v1/policies").json()["policies"]}
        assert states["example-commercial"]["state"] == "failed"
        answer = c.post("/v1/check", content=_cap_claim(4))
        assert answer.status_code == 503 and answer.json()["diagnostics"][0]["line"] > 0
        assert c.post("/v1/check", content=jsonl(GOOD)).status_code == 200  # medicare still judges


# --------------------------------------------------------------------------------------- drafts: lint, try


def test_a_payers_files_come_with_its_base_and_where_it_overrides_the_base(web, tmp_path):
    make, Settings, _ = web
    payers = tmp_path / "payers"
    shutil.copytree(ROOT / "policies" / "example-commercial", payers / "example-commercial")
    policy_file = payers / "example-commercial" / "policy.yaml"
    # Medicare's 97112 guideline replaced by a rule of the same id, rather than removed as the plan ships it.
    text = (
        policy_file.read_text()
        .replace("  - medicare.unit-cap.97112\n", "", 1)
        .replace(
            "unit_caps:\n",
            "unit_caps:\n  - id: medicare.unit-cap.97112\n    codes: 97112\n    max_units: 5\n"
            '    source: "a test of the service"\n',
            1,
        )
    )
    policy_file.write_text(text)
    with make(Settings(policies=(str(payers),), reload_interval=0)) as c:
        wait_ready(c)
        answer = c.get("/v1/policies/example-commercial/files").json()
        assert c.get("/v1/policies/medicare/files").json()["bases"] == []
    (base,) = answer["bases"]
    assert base["payer"] == "medicare" and "caps.yaml" in [f["path"] for f in base["files"]]
    assert all(f["file"].startswith("policies/medicare/") for f in base["files"])
    how = {o["rule"]: o for o in answer["overrides"]}
    removed = how["medicare.chiropractic.excluded-service"]
    assert removed["how"] == "removed" and removed["file"].endswith("example-commercial/policy.yaml")
    assert "- medicare.chiropractic.excluded-service" in text.splitlines()[removed["line"] - 1]
    assert removed["base"]["file"] == "policies/medicare/chiropractic.yaml"
    chiropractic = next(f["text"] for f in base["files"] if f["path"] == "chiropractic.yaml").splitlines()
    assert "medicare.chiropractic.excluded-service" in chiropractic[removed["base"]["line"] - 1]
    replaced = how["medicare.unit-cap.97112"]
    assert replaced["how"] == "replaced" and "id: medicare.unit-cap.97112" in text.splitlines()[replaced["line"] - 1]
    assert replaced["base"]["file"] == "policies/medicare/caps.yaml"
    assert "medicare.plan-of-care.certifying-npi" not in how  # a base rule the plan keeps as it is


def test_lint_underlines_a_typo_in_an_unsaved_edit_by_the_real_file_name(client):
    files = client.get("/v1/policies/example-commercial/files").json()["files"]
    text = next(f["text"] for f in files if f["path"] == "policy.yaml")
    typo = text.replace("max_units: 3", "max_unit: 3")
    report = client.post("/v1/lint", json={"payer": "example-commercial", "files": {"policy.yaml": typo}}).json()
    (result,) = report["policies"]
    assert result["ok"] is False
    (found,) = [d for d in result["diagnostics"] if d["code"] == "E201"]
    assert found["file"] == "policies/example-commercial/policy.yaml"
    assert typo.splitlines()[found["line"] - 1].strip().startswith("max_unit:")
    assert "max_units" in found.get("help", "")
    clean = client.post("/v1/lint", json={"payer": "example-commercial", "files": {"policy.yaml": text}}).json()
    assert clean["policies"][0]["ok"] is True
    outside = client.post("/v1/lint", json={"payer": "medicare", "files": {"../x.yaml": "a: 1"}})
    assert outside.status_code == 400


def test_try_judges_with_the_saved_policy_and_the_draft(client):
    text = next(
        f["text"]
        for f in client.get("/v1/policies/example-commercial/files").json()["files"]
        if f["path"] == "policy.yaml"
    )
    tried = client.post(
        "/v1/try",
        json={
            "payer": "example-commercial",
            "claims": _cap_claim(4).decode(),
            "files": {"policy.yaml": text.replace("max_units: 3", "max_units: 4")},
        },
    )
    out = tried.json()
    assert out["saved"]["claims"][0]["status"] == "denied"
    assert out["draft"]["claims"][0]["status"] == "accepted" and out["lint"]["ok"]
    # Nothing was saved: the service still judges with the file on disk.
    assert json.loads(client.post("/v1/check", content=_cap_claim(4)).text)["claims"][0]["status"] == "denied"


def test_diff_gives_the_impact_of_an_unsaved_edit(client):
    text = next(
        f["text"]
        for f in client.get("/v1/policies/example-commercial/files").json()["files"]
        if f["path"] == "policy.yaml"
    )
    edit = {"policy.yaml": text.replace("max_units: 3", "max_units: 4")}
    found = client.post(
        "/v1/diff", json={"payer": "example-commercial", "claims": _cap_claim(4).decode(), "files": edit}
    ).json()
    assert found["lint"]["ok"] and found["diff"]["summary"]["lines_changed"] == 1
    [claim] = found["diff"]["claims"]
    [line] = claim["lines"]
    assert line["kind"] == "units_changed" and "example-commercial.unit-cap.97112" in json.dumps(line)  # 3 -> 4
    assert "payerpolicy-draft-" not in json.dumps(found)  # files named as the real ones
    broken = client.post(
        "/v1/diff",
        json={"payer": "example-commercial", "claims": _cap_claim(4).decode(), "files": {"policy.yaml": "policy: {\n"}},
    ).json()
    assert broken["diff"] is None and broken["lint"]["ok"] is False
    assert client.post("/v1/diff", json={"payer": "nobody", "claims": ""}).status_code == 404


def test_a_draft_is_loaded_in_memory_tables_and_new_files_included(client, tmp_path):
    import tempfile

    scratch = Path(tempfile.gettempdir())
    before = {p.name for p in scratch.iterdir()}
    claim = {
        **GOOD,
        "id": "T-1",
        "payer": "example-commercial",
        "lines": [{**GOOD["lines"][0], "code": "97110", "units": 3, "minutes": 45, "date": "2026-11-02"}],
    }
    files = {f["path"]: f["text"] for f in client.get("/v1/policies/example-commercial/files").json()["files"]}
    table = files["reference/mue-2026q4.csv"]
    assert "97110,4,3," in table
    tried = client.post(
        "/v1/try",
        json={
            "payer": "example-commercial",
            "claims": json.dumps(claim),
            "files": {"reference/mue-2026q4.csv": table.replace("97110,4,3,", "97110,2,3,")},
        },
    )
    answer = tried.json()
    assert answer["lint"]["ok"] and answer["saved"]["claims"][0]["lines"][0]["allowed_units"] == 3
    (line,) = answer["draft"]["claims"][0]["lines"]
    assert line["status"] == "denied"  # 3 units over the edited row's 2, read from the request, not the disk
    assert "example-commercial.mue" in [f["rule"] for f in answer["draft"]["claims"][0]["findings"]]
    new_file = (
        "unit_caps:\n  - id: example-commercial.unit-cap.97110\n    codes: 97110\n    max_units: 1\n"
        '    source: "a test of drafts"\n'
    )
    added = client.post(
        "/v1/try",
        json={"payer": "example-commercial", "claims": json.dumps(claim), "files": {"extra-caps.yaml": new_file}},
    ).json()
    (finding,) = [
        f for f in added["draft"]["claims"][0]["findings"] if f["rule"] == "example-commercial.unit-cap.97110"
    ]
    assert finding["source"]["file"] == "policies/example-commercial/extra-caps.yaml"
    assert not (ROOT / "policies" / "example-commercial" / "extra-caps.yaml").exists()
    assert {p.name for p in scratch.iterdir()} - before == set()  # no scratch copy of the folder


def test_edits_are_saved_only_when_allowed_only_clean_and_keeping_the_previous_file(web, client, tmp_path):
    body = {"payer": "example-commercial", "files": {"policy.yaml": "policy: {}\n"}}
    refused = client.post("/v1/save", json=body)
    assert refused.status_code == 403 and "--allow-edits" in refused.json()["error"]
    assert client.get("/v1/policies/example-commercial/files").json()["editable"] is False

    make, Settings, _ = web
    payers = tmp_path / "payers"
    shutil.copytree(ROOT / "policies" / "example-commercial", payers / "example-commercial")
    policy_file = payers / "example-commercial" / "policy.yaml"
    original = policy_file.read_text()
    with make(Settings(policies=(str(payers),), reload_interval=0, allow_edits=True)) as c:
        wait_ready(c)
        assert c.get("/v1/policies/example-commercial/files").json()["editable"] is True
        broken = c.post(
            "/v1/save",
            json={
                "payer": "example-commercial",
                "files": {"policy.yaml": original.replace("max_units: 3", "max_units: x")},
            },
        )
        assert broken.status_code == 422 and broken.json()["diagnostics"][0]["code"] == "E203"
        assert policy_file.read_text() == original and not policy_file.with_name("policy.yaml.previous").exists()
        as_text = c.post("/v1/save", content=json.dumps(body), headers={"content-type": "text/plain"})
        assert as_text.status_code == 415  # what another site's page could send without asking
        saved = c.post(
            "/v1/save",
            json={
                "payer": "example-commercial",
                "files": {"policy.yaml": original.replace("max_units: 3", "max_units: 4")},
            },
        )
        assert saved.status_code == 200 and saved.json()["policy"]["state"] == "loaded"
        assert "max_units: 4" in policy_file.read_text()
        assert policy_file.with_name("policy.yaml.previous").read_text() == original
        assert not [p for p in policy_file.parent.iterdir() if p.name.endswith(".saving")]
        assert json.loads(c.post("/v1/check", content=_cap_claim(4)).text)["claims"][0]["status"] == "accepted"


# ------------------------------------------------------------------------------------------------ OpenAPI


def _schema_at(doc: dict, *path: str) -> dict:
    pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
    return {**doc, "$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": f"#/{pointer}"}


def test_the_openapi_document_lists_exactly_the_routes_served(client):
    from starlette.routing import Route

    doc = client.get("/openapi.json").json()
    from payerpolicy import __version__

    assert doc["info"]["version"] == __version__
    served = {(r.path, m.lower()) for r in client.app.routes if isinstance(r, Route) for m in r.methods if m != "HEAD"}
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert documented == served


@pytest.mark.parametrize(
    "method,path,kwargs",
    [
        ("post", "/v1/check", {"content": jsonl(GOOD)}),
        ("post", "/v1/check", {"content": jsonl(GOOD, BAD)}),
        ("post", "/v1/check", {"content": jsonl(BAD)}),
        ("post", "/v1/check", {"content": b""}),
        ("post", "/v1/check?as_of=2020-01-15&received=2020-01-16&history=off", {"content": jsonl(LIFTED_PAIR)}),
        ("post", "/v1/check?as_of=2020-02-30", {"content": jsonl(GOOD)}),
        ("post", "/v1/check", {"content": (ROOT / "examples" / "claims.json").read_bytes()}),
        ("post", "/v1/lint", {"json": {"payer": "medicare", "files": {"caps.yaml": "unit_caps: [\n"}}}),
        ("post", "/v1/lint", {"json": {"payer": "nobody"}}),
        (
            "post",
            "/v1/try",
            {
                "json": {
                    "payer": "example-commercial",
                    "claims": _cap_claim(4).decode(),
                    "files": {"policy.yaml": "policy: {\n"},
                }
            },
        ),
        ("post", "/v1/diff", {"json": {"payer": "example-commercial", "claims": _cap_claim(4).decode(), "files": {}}}),
        ("post", "/v1/save", {"json": {"payer": "medicare", "files": {"caps.yaml": "unit_caps: []\n"}}}),
        ("post", "/v1/lint", {"content": b"{}", "headers": {"content-type": "text/plain"}}),
        ("get", "/v1/policies", {}),
        ("get", "/v1/policies/medicare/files", {}),
        ("get", "/health", {}),
        ("get", "/ready", {}),
    ],
)
def test_every_answer_matches_the_openapi_document(client, method, path, kwargs):
    doc = client.get("/openapi.json").json()
    answer = getattr(client, method)(path, **kwargs)
    path, _, query = path.partition("?")
    template = "/v1/policies/{payer}/files" if path.startswith("/v1/policies/") else path
    documented = {p["name"] for p in doc["paths"][template][method].get("parameters", ())}
    asked = {pair.split("=")[0] for pair in query.split("&") if pair}
    assert asked <= documented, f"{asked - documented} not documented for {path}"
    responses = doc["paths"][template][method]["responses"]
    assert str(answer.status_code) in responses, f"{answer.status_code} is not documented for {path}"
    schema = _schema_at(
        doc, "paths", template, method, "responses", str(answer.status_code), "content", "application/json", "schema"
    )
    jsonschema.Draft202012Validator(schema).validate(answer.json())
