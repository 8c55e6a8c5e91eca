"""The service under load, on loopback: `payerpolicy serve` in its own process, clients in this one.

    python bench/serve_load.py [--clients 8] [--seconds 10] [--bulk 10000] [--rounds 3]

1. Single-claim requests: `--clients` connections (keep-alive) each post one generated claim at a time for
   `--seconds`, in turns with the library judging the same bodies one per call in this process, for
   `--rounds`; prints the median claims/s of each and the median of the rounds' paired ratios, the latency's
   median and 99th percentile,
   and the server's resident memory before and after (flat means no growth per request); then the CPU time
   the service and the load generator (this process, a thread per client) each spent per request.
2. A `--bulk`-claim JSON Lines body posted whole, against the same claims judged and written by the library
   as `payerpolicy check` does (Session + DecisionWriter, in this process), in turns for `--rounds` rounds;
   prints each one's median claims/s and the service's as a share of the command line's (the median of the
   rounds' paired ratios; this printed the best round of each, which hid the collector and flattered).
3. A client that sends a body slowly, and one that goes away mid-body: the first gets 408 after the service's
   `--body-timeout`, and the service answers others meanwhile and after both.

Every loop is bounded in count and time, and every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import payerpolicy  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_service(port: int, body_timeout: float) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "payerpolicy",
            "serve",
            "--port",
            str(port),
            "--reload-interval",
            "0",
            "--body-timeout",
            str(body_timeout),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ready")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the service did not get ready in 120 s")


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", "/v1/check", body=body, headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    return answer.status, answer.read()


def single_claims(port: int, bodies: list[bytes], clients: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.monotonic() + seconds
    failures = []

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n
        while time.monotonic() < stop and i < n + 1_000_000:
            started = time.perf_counter()
            status, _ = post(connection, bodies[i % len(bodies)])
            latencies[n].append(time.perf_counter() - started)
            if status not in (200, 422):
                failures.append(status)
            i += clients
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: statuses {sorted(set(failures))}")
    flat = [x for each in latencies for x in each]
    return len(flat), flat


def judged_by_library(body: bytes, policies=None) -> int:
    """What `payerpolicy check --format json` does with a file of these claims, minus starting Python."""
    out = io.StringIO()
    writer = payerpolicy.DecisionWriter(out, "json")
    writer.start()
    with payerpolicy.Session(policies or payerpolicy.Policies()) as session:
        for decision in session.check_many(payerpolicy.read_claims(io.BytesIO(body), "json")):
            writer.write(decision)
    writer.finish()
    return writer.summary["claims"]


def library_single_claims(bodies: list[bytes], seconds: float) -> int:
    """The same single-claim bodies judged one per call by the library in this process, for `seconds`."""
    policies = payerpolicy.Policies()
    stop, count = time.monotonic() + seconds, 0
    while time.monotonic() < stop and count < 1_000_000:
        judged_by_library(bodies[count % len(bodies)], policies)
        count += 1
    return count


port_pid = [0]  # the server's process id, for its memory


def bulk(port: int, body: bytes, count: int, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {"service": [], "command line": []}
    for _ in range(rounds):
        # A new connection each time: the service closes one left idle (keep-alive) for 5 s.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.perf_counter()
        status, answer = post(connection, body)
        elapsed = time.perf_counter() - started
        connection.close()
        assert status in (200, 422) and json.loads(answer)["summary"]["claims"] == count, status
        rates["service"].append(count / elapsed)
        started = time.perf_counter()
        assert judged_by_library(body) == count
        rates["command line"].append(count / (time.perf_counter() - started))
        print(f"  after a {count:,}-claim body: server memory {rss_mib(port_pid[0]):.0f} MiB")
    return rates


def slow_and_gone(port: int, body_timeout: float) -> None:
    slow = socket.create_connection(("127.0.0.1", port), timeout=body_timeout + 30)
    slow.sendall(
        b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100000\r\n\r\n{"id": '
    )
    gone = socket.create_connection(("127.0.0.1", port), timeout=10)
    gone.sendall(b'POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n[{"id": 1')
    gone.close()
    started = time.monotonic()
    meanwhile = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    meanwhile.request("GET", "/health")
    assert meanwhile.getresponse().status == 200
    print(
        f"  /health answered in {1000 * (time.monotonic() - started):.1f} ms while a body trickles in "
        "and another was dropped"
    )
    reply = slow.recv(200).split(b"\r\n", 1)[0].decode()
    waited = time.monotonic() - started
    slow.close()
    print(f"  the slow body was answered `{reply}` after {waited:.1f} s (body timeout {body_timeout:g} s)")
    assert " 408 " in reply + " ", reply


def _paired(first: list[float], second: list[float]) -> float:
    """The median of the rounds' ratios first/second (taken in turns: other load slows both alike)."""
    return statistics.median(a / b for a, b in zip(first, second))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--body-timeout", type=float, default=3.0)
    args = parser.parse_args()
    claims = generate.claims(max(args.bulk, 2000), seed=11)
    singles = [json.dumps(c).encode() for c in claims[:2000]]
    bulk_body = "".join(json.dumps(c) + "\n" for c in claims[: args.bulk]).encode()
    port = free_port()
    server = start_service(port, args.body_timeout)
    port_pid[0] = server.pid
    try:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in singles[:200]:
            post(warm, body)
        warm.close()
        before = rss_mib(server.pid)
        served, alone, latencies = [], [], []
        requests, server_cpu, client_cpu = 0, 0.0, 0.0
        for _ in range(args.rounds):  # in turns, so that the machine's other load slows both alike
            server_before, client_before = cpu_seconds(server.pid), own_cpu_seconds()
            count, times = single_claims(port, singles, args.clients, args.seconds)
            server_cpu += cpu_seconds(server.pid) - server_before
            client_cpu += own_cpu_seconds() - client_before
            requests += count
            served.append(count / args.seconds)
            latencies += times
            alone.append(library_single_claims(singles, args.seconds) / args.seconds)
        after = rss_mib(server.pid)
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        served_rate, alone_rate = statistics.median(served), statistics.median(alone)
        print(
            f"single claims, {args.clients} clients, {args.rounds} rounds of {args.seconds:g} s: median "
            f"{served_rate:,.0f} claims/s, median latency {1000 * statistics.median(latencies):.1f} ms, "
            f"p99 {1000 * p99:.1f} ms; the library one claim per call in this process, in turns: median "
            f"{alone_rate:,.0f} claims/s; service/library {_paired(served, alone):.2f} (median of the rounds' "
            f"ratios); server memory {before:.0f} -> {after:.0f} MiB"
        )
        # The clients share the machine with the service: what each side spends per request says how much of
        # the machine the load generator took, and how many requests the service would answer on a core of
        # its own.
        print(
            f"  CPU per request: service {1e6 * server_cpu / requests:,.0f} us "
            f"(so at most {requests / server_cpu:,.0f} requests/s on one core), "
            f"load generator {1e6 * client_cpu / requests:,.0f} us; the library per claim "
            f"{1e6 / alone_rate:,.0f} us of wall time"
        )
        rates = bulk(port, bulk_body, args.bulk, args.rounds)
        median = {name: statistics.median(values) for name, values in rates.items()}
        print(
            f"{args.bulk:,}-claim JSON Lines body: service {median['service']:,.0f} claims/s, command line "
            f"{median['command line']:,.0f} claims/s (medians of {args.rounds}, in turns): "
            f"{_paired(rates['service'], rates['command line']):.2f} of the command line (median of the rounds' "
            f"ratios); server memory {rss_mib(server.pid):.0f} MiB"
        )
        slow_and_gone(port, args.body_timeout)
        print(f"server memory at the end: {rss_mib(server.pid):.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
