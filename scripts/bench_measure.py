#!/usr/bin/env python3
"""Measurements behind scripts/bench. Each subcommand prints one JSON object on stdout.

  startup   start to first Jira request, for jira-gate and the two hand-written alternatives
  compare   the same work (create, request approval, wait for an approval after N s) done by
            jira-gate, the Python `jira` library and a curl + jq loop against one sandbox:
            wall time, CPU, peak RSS and the requests each made (from the sandbox's log)
  cpu-wait  CPU that jira-gate spends while waiting, against a sandbox that never approves
  fleet     N concurrent `jira-gate run` against one sandbox with a random approver

Only the standard library is used here; process figures come from os.wait4 (the kernel's
rusage of the child and everything it waited for: the same source as /usr/bin/time).
"""

import argparse
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
    """The status reads of the wait: GET /issue/{key} without the changelog, after the issue's
    last transition (the Python library also reads the whole issue once, right after creating
    it; that read is part of its set-up, not of its wait)."""
    last_transition = {}
    for i, e in enumerate(entries):
        if e["method"] == "POST" and e["path"].endswith("/transitions"):
            last_transition[e["path"].split("/")[-2]] = i
    return [
        e
        for i, e in enumerate(entries)
        if e["method"] == "GET"
        and re.search(r"/issue/[A-Z]+-\d+$", e["path"])
        and "changelog" not in e["query"]
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
                env = env_for(
                    sandbox.url,
                    BENCH_ID=f"cpu-{label}",
                    BENCH_INTERVAL=args.interval,
                    BENCH_MAX_INTERVAL=args.max_interval,
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
    args = p.parse_args()
    global SPAWN  # noqa: PLW0603
    SPAWN = args.spawn
    {"startup": cmd_startup, "compare": cmd_compare, "cpu-wait": cmd_cpu_wait, "fleet": cmd_fleet}[
        args.cmd
    ](args)


if __name__ == "__main__":
    main()
