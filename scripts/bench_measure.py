#!/usr/bin/env python3
"""Measurements behind scripts/bench. Each subcommand prints one JSON object on stdout.

  startup   start to first Jira request, for jira-gate and the two hand-written alternatives
  compare   the same work (create, request approval, wait for an approval after N s) done by
            jira-gate, the Python `jira` library and a curl + jq loop against one sandbox:
            wall time, CPU, peak RSS and the requests each made (from the sandbox's log)
  cpu-wait  CPU that jira-gate spends while waiting, against a sandbox that never approves
  fleet     N concurrent `jira-gate run` against one sandbox with a random approver
  wake      approval.wake (issue 12): detection delay after a signed webhook over N concurrent
            gates, Jira requests per hour of waiting (scaled), a lost webhook, and the requests
            of create + transition + comment + one poll + decision

Only the standard library is used here; process figures come from os.wait4 (the kernel's
rusage of the child and everything it waited for: the same source as /usr/bin/time).
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
STEP = os.path.join(HERE, "bench_step.yml")
CLOUD_USER, CLOUD_TOKEN = "ci-bot@example.com", "sandbox-token"


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Sandbox:
    """`jira-gate sandbox` in its own process; its log times mapped to the wall clock."""

    def __init__(self, binary, *extra, flavor="cloud"):
        self.proc = subprocess.Popen(
            [binary, "sandbox", "--listen", "127.0.0.1:0", "--flavor", flavor, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit(f"the sandbox did not start: {self.url!r}")
        # Calibrate: one REST request, bracketed by wall-clock readings; the sandbox logs it at
        # t_ms after its own start, so wall = offset + t_ms (within the bracket's width).
        before = time.time()
        self.get("/rest/api/2/serverInfo")
        after = time.time()
        t_ms = self.requests()[-1]["t_ms"]
        self.offset = (before + after) / 2 - t_ms / 1000
        self.offset_error = (after - before) / 2 + 0.001
        self.clear()

    def get(self, path, method="GET"):
        req = urllib.request.Request(self.url + path, method=method)
        req.add_header("Authorization", "Basic Y2ktYm90QGV4YW1wbGUuY29tOnNhbmRib3gtdG9rZW4=")
        with urllib.request.urlopen(req, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def post(self, path, body):
        req = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST"
        )
        req.add_header("Authorization", "Basic Y2ktYm90QGV4YW1wbGUuY29tOnNhbmRib3gtdG9rZW4=")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def create(self, summary):
        """A Change in OPS, by the REST API; its key."""
        fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Change"}, "summary": summary}
        return self.post("/rest/api/2/issue", {"fields": fields})["key"]

    def requests(self):
        return self.get("/_sandbox/requests")

    def clear(self):
        self.get("/_sandbox/requests", method="DELETE")

    def issues(self):
        return self.get("/_sandbox/issues")

    def wall(self, entry):
        return self.offset + entry["t_ms"] / 1000

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def env_for(url, **extra):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("JIRA_GATE_", "GITHUB_", "GITLAB", "CI_")):
            del env[name]
    env.update(JIRA_URL=url, JIRA_USER=CLOUD_USER, JIRA_API_TOKEN=CLOUD_TOKEN)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def commands(args, result_file=None):
    """The three ways of doing the work, by name."""
    gate = [args.bin, "run", STEP]
    if result_file:
        gate += ["--result-file", result_file]
    return {
        "jira-gate": gate,
        "python-jira": [args.python, os.path.join(HERE, "bench_python_jira.py")],
        "curl-jq": ["bash", os.path.join(HERE, "bench_curl.sh")],
    }


SPAWN = None  # the bench_spawn launcher (scripts/bench_spawn.c), set from --spawn


def measured(cmd, env):
    """Runs cmd to its end under bench_spawn; wall seconds, CPU seconds (user + system, of cmd and
    everything it waited for) and peak RSS in kB (the largest single process)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rusage") as out:
        subprocess.run(
            [SPAWN, out.name, *cmd],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        code, maxrss, utime, stime, wall = (int(x) for x in out.read().split())
    return {
        "exit": code,
        "wall_s": wall / 1e6,
        "utime_s": utime / 1e6,
        "stime_s": stime / 1e6,
        "cpu_s": (utime + stime) / 1e6,
        "maxrss_kb": maxrss,
        "ended_at": time.time(),
    }


# ---------------------------------------------------------------------------------------------
# start to first request


def first_byte_ms(cmd, env, listener):
    """Milliseconds from just before fork/exec of cmd until the first byte of its first request
    reaches `listener` (a plain TCP socket that never answers); then the process is killed."""
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([listener], [], [], 30)
        if not ready:
            raise SystemExit(f"no connection from {cmd[0]} within 30 s")
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(30)
            first = conn.recv(1)
            t1 = time.monotonic_ns()
            rest = conn.recv(4096, socket.MSG_DONTWAIT) if first else b""
            request_line = (first + rest).split(b"\r\n", 1)[0].decode("latin-1")
    finally:
        proc.kill()
        proc.wait()
    return (t1 - t0) / 1e6, request_line


def cmd_startup(args):
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    url = "http://127.0.0.1:%d" % listener.getsockname()[1]
    env = env_for(url, BENCH_ID=1)
    out = {"method": "fork/exec to first request byte on a bare TCP listener", "runs": args.runs}
    for name, cmd in commands(args).items():
        runs = args.runs if name != "python-jira" else max(5, args.runs // 4)
        first_byte_ms(cmd, env, listener)  # warm the page cache
        times, line = [], ""
        for _ in range(runs):
            ms, line = first_byte_ms(cmd, env, listener)
            times.append(ms)
        out[name] = {
            "median_ms": statistics.median(times),
            "min_ms": min(times),
            "max_ms": max(times),
            "runs": runs,
            "first_request": line,
        }
    # The floor: a bare fork/exec of a C program that connects at once (curl).
    times = []
    for _ in range(args.runs):
        ms, _ = first_byte_ms(["curl", "-s", "-m", "5", url], env, listener)
        times.append(ms)
    out["curl-alone"] = {"median_ms": statistics.median(times), "runs": args.runs}
    print(json.dumps(out, indent=1))


# ---------------------------------------------------------------------------------------------
# the same work, side by side


def classify(entries):
    """Counts of a run's requests by method and path shape (keys and ids folded)."""
    counts = {}
    for e in entries:
        path = re.sub(r"/issue/[A-Z]+-\d+", "/issue/{key}", e["path"])
        if "expand=changelog" in e["query"]:
            path += "?expand=changelog"
        key = f'{e["method"]} {path}'
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def polls_of(entries):
    """The status reads of the wait: GET /issue/{key} after the issue's last transition (the
    Python library also reads the whole issue once, right after creating it; that read is part of
    its set-up, not of its wait), except jira-gate's separate changelog read for `decided_by`
    (`fields=status` alone; a poll of a ticket jira-gate created brings the changelog along, and
    asks for the resolution too)."""
    last_transition = {}
    for i, e in enumerate(entries):
        if e["method"] == "POST" and e["path"].endswith("/transitions"):
            last_transition[e["path"].split("/")[-2]] = i
    return [
        e
        for i, e in enumerate(entries)
        if e["method"] == "GET"
        and re.search(r"/issue/[A-Z]+-\d+$", e["path"])
        and ("changelog" not in e["query"] or "resolution" in e["query"])
        and i > last_transition.get(e["path"].rsplit("/", 1)[-1], -1)
    ]


def cmd_compare(args):
    sandbox = Sandbox(args.bin, "--approve-after", args.approve_after)
    interval = args.interval
    out = {"approve_after": args.approve_after, "interval_s": interval, "runs": {}}
    try:
        for rep in range(args.reps):
            for name in commands(args):
                with tempfile.TemporaryDirectory() as tmp:
                    result = os.path.join(tmp, "r.json")
                    cmd = commands(args, result)[name]
                    env = env_for(
                        sandbox.url,
                        BENCH_ID=f"{name}-{rep}",
                        BENCH_INTERVAL=f"{interval}s",
                        BENCH_MAX_INTERVAL=f"{interval}s",
                        BENCH_INTERVAL_S=interval,
                        BENCH_TIMEOUT="2m",
                        BENCH_TIMEOUT_S=120,
                    )
                    sandbox.clear()
                    m = measured(cmd, env)
                    log = sandbox.requests()
                    polls = polls_of(log)
                    m["requests"] = len(log)
                    m["log"] = [[e["t_ms"], e["method"], e["path"], e["query"]] for e in log]
                    m["polls"] = len(polls)
                    m["by_endpoint"] = classify(log)
                    m["non_2xx"] = sum(1 for e in log if not 200 <= (e["status"] or 0) < 300)
                    if polls:
                        # Requests between the first and the last status read, per read.
                        first, last = log.index(polls[0]), log.index(polls[-1])
                        m["requests_per_poll"] = (last - first + 1) / len(polls)
                    if name == "jira-gate" and os.path.exists(result):
                        with open(result, encoding="utf-8") as f:
                            m["result"] = json.load(f)
                out["runs"].setdefault(name, []).append(m)
    finally:
        sandbox.close()
    print(json.dumps(out, indent=1))


# ---------------------------------------------------------------------------------------------
# CPU while waiting


def cmd_cpu_wait(args):
    sandbox = Sandbox(args.bin)  # no approver: the step waits until its timeout
    out = {"interval": args.interval, "max_interval": args.max_interval}
    try:
        for label, timeout in (("short", args.short), ("long", args.long)):
            with tempfile.TemporaryDirectory() as tmp:
                result = os.path.join(tmp, "r.json")
                # The stanza's gaps may not exceed its timeout: the short run polls at its own.
                short = label == "short"
                env = env_for(
                    sandbox.url,
                    BENCH_ID=f"cpu-{label}",
                    BENCH_INTERVAL=f"{timeout}s" if short else args.interval,
                    BENCH_MAX_INTERVAL=f"{timeout}s" if short else args.max_interval,
                    BENCH_TIMEOUT=f"{timeout}s",
                )
                sandbox.clear()
                m = measured([args.bin, "run", STEP, "--result-file", result], env)
                log = sandbox.requests()
                m["requests"] = len(log)
                m["polls"] = len(polls_of(log))
                with open(result, encoding="utf-8") as f:
                    m["decision"] = json.load(f)["decision"]
                out[label] = m
    finally:
        sandbox.close()
    short, long_ = out["short"], out["long"]
    d_cpu = long_["cpu_s"] - short["cpu_s"]
    d_wall = long_["wall_s"] - short["wall_s"]
    d_polls = long_["polls"] - short["polls"]
    out["waited_s"] = d_wall
    out["extra_polls"] = d_polls
    out["cpu_ms_waiting"] = d_cpu * 1000
    out["cpu_ms_per_hour_measured_rate"] = d_cpu / d_wall * 3600 * 1000
    if d_polls > 0:
        per_poll = d_cpu / d_polls
        out["cpu_ms_per_poll"] = per_poll * 1000
        steady = float(args.max_interval.rstrip("s"))
        out["cpu_ms_per_hour_steady"] = per_poll * (3600 / steady) * 1000
        out["cpu_ms_per_hour_default_5m"] = per_poll * 12 * 1000
    print(json.dumps(out, indent=1))


# ---------------------------------------------------------------------------------------------
# the fleet


def jira_time(text):
    """Seconds since the epoch of Jira's 2026-10-20T14:12:29.014+0000."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def cmd_fleet(args):
    sandbox = Sandbox(args.bin, "--approve-after", args.approve_after, "--seed", str(args.seed))
    tmp = tempfile.mkdtemp(prefix="jira-gate-fleet-")
    procs = []
    try:
        start_wall = time.time()
        for i in range(args.n):
            result = os.path.join(tmp, f"r{i}.json")
            env = env_for(
                sandbox.url,
                BENCH_ID=f"fleet-{i}",
                BENCH_INTERVAL=args.interval,
                BENCH_MAX_INTERVAL=args.max_interval,
                BENCH_TIMEOUT=args.timeout,
            )
            procs.append(
                (
                    subprocess.Popen(
                        [args.bin, "run", STEP, "--result-file", result],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                    result,
                )
            )
        codes = [p.wait() for p, _ in procs]
        log = sandbox.requests()
    finally:
        for p, _ in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        sandbox.close()

    results = []
    for _, path in procs:
        try:
            with open(path, encoding="utf-8") as f:
                r = json.load(f)
            r["_ended"] = os.stat(path).st_mtime
            results.append(r)
        except (OSError, ValueError):
            results.append({"decision": "missing"})
    decisions = {}
    for r in results:
        decisions[r["decision"]] = decisions.get(r["decision"], 0) + 1

    # Polls per issue, on the wall clock.
    polls = {}
    for e in polls_of(log):
        key = e["path"].rsplit("/", 1)[-1]
        polls.setdefault(key, []).append(sandbox.wall(e))
    delays, excess, gaps = [], [], []
    for r in results:
        if r.get("decision") != "approved" or not r.get("decided_at"):
            continue
        approved_at = jira_time(r["decided_at"])
        delay = r["_ended"] - approved_at
        delays.append(delay)
        times = polls.get(r["issue_key"], [])
        before = [t for t in times if t <= approved_at]
        after = [t for t in times if t > approved_at]
        if before and after:
            gap = after[0] - before[-1]
            gaps.append(gap)
            excess.append(delay - gap)

    # Request rate per second since the fleet started.
    per_second = {}
    poll_per_second = {}
    for e in log:
        s = int(sandbox.wall(e) - start_wall)
        per_second[s] = per_second.get(s, 0) + 1
    for e in polls_of(log):
        s = int(sandbox.wall(e) - start_wall)
        poll_per_second[s] = poll_per_second.get(s, 0) + 1
    last = max(per_second) if per_second else 0
    series = [per_second.get(s, 0) for s in range(last + 1)]
    poll_series = [poll_per_second.get(s, 0) for s in range(last + 1)]
    mean = sum(series) / len(series) if series else 0
    busiest = max(series) if series else 0

    # The wait phase alone: seconds in which every step still waits (all have made their first
    # poll and none has been approved yet), where the poll rate should be flat.
    first_polls = [min(t) for t in polls.values()]
    approvals = [jira_time(r["decided_at"]) for r in results if r.get("decided_at")]
    steady = {}
    if first_polls and approvals:
        lo = int(max(first_polls) - start_wall) + 1
        hi = int(min(approvals) - start_wall)
        window = poll_series[lo:hi] if hi > lo else []
        if window:
            steady = {
                "from_s": lo,
                "to_s": hi,
                "mean": sum(window) / len(window),
                "busiest": max(window),
            }
    # The whole wait phase, each second's poll count against the mean of the 10 s around it
    # (the number of waiting steps falls as approvals come in, so a global mean is not flat).
    local = []
    lo = int(max(first_polls) - start_wall) + 1 if first_polls else 0
    for s in range(lo, len(poll_series)):
        around = poll_series[max(lo, s - 5) : s + 5]
        m = sum(around) / len(around)
        if m >= 1:
            local.append(poll_series[s] / m)

    out = {
        "n": args.n,
        "approve_after": args.approve_after,
        "interval": args.interval,
        "max_interval": args.max_interval,
        "seed": args.seed,
        "decisions": decisions,
        "exit_codes": {str(c): codes.count(c) for c in sorted(set(codes))},
        "requests": len(log),
        "duration_s": len(series),
        "rate_mean": mean,
        "rate_busiest": busiest,
        "busiest_over_mean": busiest / mean if mean else None,
        "first_second": series[:3],
        "per_second": series,
        "polls_per_second": poll_series,
        "steady": steady,
        "poll_busiest_over_local_mean": max(local) if local else None,
        "delay_p50": percentile(delays, 50) if delays else None,
        "delay_p95": percentile(delays, 95) if delays else None,
        "delay_max": max(delays) if delays else None,
        "gap_p50": percentile(gaps, 50) if gaps else None,
        "gap_max": max(gaps) if gaps else None,
        "delay_minus_gap_p95": percentile(excess, 95) if excess else None,
        "delay_minus_gap_max": max(excess) if excess else None,
        "within_gap_plus_1s": sum(1 for x in excess if x <= 1.0),
        "measured_steps": len(excess),
        "clock_offset_error_ms": sandbox.offset_error * 1000,
    }
    print(json.dumps(out, indent=1))


HOOK_SECRET = "bench-hook-secret"


def free_ports(n):
    """n ports nobody listens on right now (bound, read, released)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wake_stanza(url, ticket, interval, max_interval, timeout, port=None, api="auto"):
    """A stanza text: `ticket` lines, Approved / Rejected, and a wake listener on `port`."""
    text = (
        f"jira:\n  url: {url}\n  api: {api}\n"
        "  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }\n"
        f"ticket:\n{ticket}"
        "approval:\n  approve_when: { status: Approved }\n  reject_when: { status: Rejected }\n"
        f"  interval: {interval}\n  max_interval: {max_interval}\n  timeout: {timeout}\n"
    )
    if port:
        text += f"  wake:\n    listen: '127.0.0.1:{port}'\n    secret: '${{BENCH_HOOK_SECRET}}'\n"
    return text


def gate(args, tmp, name, text, **env):
    """Starts `jira-gate run` on `text`; (process, result file)."""
    step = os.path.join(tmp, f"{name}.yml")
    with open(step, "w", encoding="utf-8") as f:
        f.write(text)
    result = os.path.join(tmp, f"{name}.json")
    proc = subprocess.Popen(
        [args.bin, "run", step, "--result-file", result],
        env=env_for("unused", BENCH_HOOK_SECRET=HOOK_SECRET, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, result


def read_result(path):
    try:
        with open(path, encoding="utf-8") as f:
            r = json.load(f)
        r["_ended"] = os.stat(path).st_mtime
        return r
    except (OSError, ValueError):
        return {"decision": "missing"}


def signed_event(port, key):
    """Posts a signed `jira:issue_updated` about `key` to a listener; the HTTP status."""
    body = json.dumps(
        {"webhookEvent": "jira:issue_updated", "issue": {"key": key, "fields": {}}}
    ).encode()
    digest = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/jira-gate", data=body, method="POST")
    req.add_header("X-Hub-Signature", f"sha256={digest}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as reply:
        return reply.status


def reads_of(log, key):
    return [e for e in log if e["method"] == "GET" and e["path"].endswith(f"/issue/{key}")]


def wake_delay(args, tmp):
    """N gates on existing tickets, interval 1m: each is approved in Jira and sent one signed
    event; delay = the gate's end (result file mtime) minus the moment the event was sent."""
    sandbox = Sandbox(args.bin)
    procs = []
    try:
        keys = [sandbox.create(f"Wake bench {i}") for i in range(args.n)]
        ports = free_ports(args.n)
        sandbox.clear()
        for i, (key, port) in enumerate(zip(keys, ports)):
            text = wake_stanza(sandbox.url, f"  key: {key}\n", "1m", "1m", "5m", port)
            procs.append(gate(args, tmp, f"wake-{i}", text))
        # Every gate has made its first read and sleeps 30-60 s: the next poll is far away.
        deadline = time.time() + 60
        while time.time() < deadline:
            log = sandbox.requests()
            if all(reads_of(log, k) for k in keys):
                break
            time.sleep(0.2)
        sent = {}
        for key, port in zip(keys, ports):
            sandbox.post(f"/_sandbox/issues/{key}/status", {"status": "Approved", "by": "alice"})
            sent[key] = time.time()
            signed_event(port, key)
            time.sleep(args.spacing)
        codes = [p.wait(timeout=120) for p, _ in procs]
        log = sandbox.requests()
    finally:
        for p, _ in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        sandbox.close()
    results = [read_result(r) for _, r in procs]
    delays = [r["_ended"] - sent[k] for r, k in zip(results, keys) if r["decision"] == "approved"]
    reads = [len(reads_of(log, k)) for k in keys]
    return {
        "n": args.n,
        "spacing_s": args.spacing,
        "decisions": {d: sum(1 for r in results if r["decision"] == d) for d in {r["decision"] for r in results}},
        "exit_codes": {str(c): codes.count(c) for c in sorted(set(codes))},
        "delay_p50": percentile(delays, 50) if delays else None,
        "delay_p95": percentile(delays, 95) if delays else None,
        "delay_max": max(delays) if delays else None,
        "reads_per_gate": {str(n): reads.count(n) for n in sorted(set(reads))},
    }


def wake_per_hour(args, tmp):
    """Requests while waiting, time scaled 60x (1 s stands for 1 min): a gate with wake at
    interval = max_interval = 15 s (15 m) for 120 s (2 h), and one polling at 1 s (1 m) for 60 s
    (1 h); nobody decides and no event comes, so every request is the safety net's poll."""
    sandbox = Sandbox(args.bin)
    try:
        waking, polling = sandbox.create("Wake per hour"), sandbox.create("Poll per hour")
        sandbox.clear()
        port = free_ports(1)[0]
        runs = [
            gate(args, tmp, "hour-wake", wake_stanza(sandbox.url, f"  key: {waking}\n", "15s", "15s", "120s", port)),
            gate(args, tmp, "hour-poll", wake_stanza(sandbox.url, f"  key: {polling}\n", "1s", "1s", "60s")),
        ]
        codes = [p.wait(timeout=200) for p, _ in runs]
        log = sandbox.requests()
    finally:
        sandbox.close()
    wake_reads, poll_reads = len(reads_of(log, waking)), len(reads_of(log, polling))
    return {
        "scale": 60,
        "exit_codes": codes,
        "wake_reads_in_2h": wake_reads,
        "wake_per_hour": wake_reads / 2,
        "poll_reads_in_1h": poll_reads,
        "poll_per_hour": poll_reads,
    }


def wake_lost(args, tmp):
    """The sandbox drops every webhook: the gate (interval 5 s) is decided at its next poll."""
    port = free_ports(1)[0]
    sandbox = Sandbox(
        args.bin, "--approve-after", "3s", "--webhook", f"http://127.0.0.1:{port}/jira-gate",
        "--webhook-secret", HOOK_SECRET, "--webhook-drop", "1.0",
    )
    try:
        ticket = "  project: OPS\n  type: Change\n  summary: Lost webhook\n  transition: Request approval\n"
        proc, path = gate(args, tmp, "lost", wake_stanza(sandbox.url, ticket, "5s", "5s", "60s", port))
        code = proc.wait(timeout=120)
        log = sandbox.requests()
        r = read_result(path)
    finally:
        sandbox.close()
    out = {"exit": code, "decision": r.get("decision"), "polls": r.get("polls")}
    if r.get("decided_at"):
        approved = jira_time(r["decided_at"])
        times = [sandbox.wall(e) for e in reads_of(log, r["issue_key"])]
        before = [t for t in times if t <= approved]
        after = [t for t in times if t > approved]
        out["delay_s"] = r["_ended"] - approved
        out["reads_after_approval"] = len(after)
        if before and after:
            out["gap_s"] = after[0] - before[-1]
    return out


def wake_requests(args, tmp):
    """create + transition + comment + one poll + decision: every request the sandbox answered,
    under `api: auto` (the sandbox's 127.0.0.1 does not tell Cloud: serverInfo is asked) and
    `api: v3`."""
    out = {}
    for api in ["auto", "v3"]:
        sandbox = Sandbox(args.bin, "--approve-after", "0s")
        try:
            ticket = (
                "  project: OPS\n  type: Change\n  summary: Count\n"
                "  comment: Waiting for approval\n  transition: Request approval\n"
            )
            proc, path = gate(args, tmp, f"count-{api}", wake_stanza(sandbox.url, ticket, "1s", "1s", "60s", api=api))
            code = proc.wait(timeout=60)
            log = sandbox.requests()
        finally:
            sandbox.close()
        r = read_result(path)
        out[api] = {
            "exit": code,
            "decision": r.get("decision"),
            "polls": r.get("polls"),
            "requests": len(log),
            "endpoints": [f"{e['method']} {re.sub(r'OPS-[0-9]+', '{key}', e['path'])}" for e in log],
        }
    return out


def cmd_wake(args):
    tmp = tempfile.mkdtemp(prefix="jira-gate-wake-")
    out = {
        "requests": wake_requests(args, tmp),
        "lost": wake_lost(args, tmp),
        "per_hour": wake_per_hour(args, tmp),
        "delay": wake_delay(args, tmp),
    }
    print(json.dumps(out, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--spawn", required=True, help="the bench_spawn launcher")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("startup")
    s.add_argument("--runs", type=int, default=20)
    s = sub.add_parser("compare")
    s.add_argument("--approve-after", default="10s")
    s.add_argument("--interval", type=int, default=2)
    s.add_argument("--reps", type=int, default=1)
    s = sub.add_parser("cpu-wait")
    s.add_argument("--interval", default="10s")
    s.add_argument("--max-interval", default="30s")
    s.add_argument("--short", type=int, default=2)
    s.add_argument("--long", type=int, default=92)
    s = sub.add_parser("fleet")
    s.add_argument("--n", type=int, default=50)
    s.add_argument("--approve-after", default="5s..40s")
    s.add_argument("--interval", default="5s")
    s.add_argument("--max-interval", default="15s")
    s.add_argument("--timeout", default="5m")
    s.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("wake")
    s.add_argument("--n", type=int, default=200)
    s.add_argument("--spacing", type=float, default=0.01)
    args = p.parse_args()
    global SPAWN  # noqa: PLW0603
    SPAWN = args.spawn
    {
        "startup": cmd_startup,
        "compare": cmd_compare,
        "cpu-wait": cmd_cpu_wait,
        "fleet": cmd_fleet,
        "wake": cmd_wake,
    }[
        args.cmd
    ](args)


if __name__ == "__main__":
    main()
