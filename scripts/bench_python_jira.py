#!/usr/bin/env python3
"""The hand-written alternative to jira-gate, as teams write it with the `jira` library (PyPI).

Create a Change in OPS, move it to "Awaiting approval", poll its status every
BENCH_INTERVAL seconds until Approved/Done (exit 0) or Rejected/Won't Do (exit 3), or
BENCH_TIMEOUT seconds pass (exit 4). Reads JIRA_URL, JIRA_USER, JIRA_API_TOKEN, BENCH_ID.
Used by scripts/bench; run it under the venv that has `jira` installed.
"""

import os
import sys
import time

from jira import JIRA


def main() -> int:
    interval = float(os.environ.get("BENCH_INTERVAL_S", "2"))
    timeout = float(os.environ.get("BENCH_TIMEOUT_S", "300"))
    bench_id = os.environ.get("BENCH_ID", "0")
    jira = JIRA(
        server=os.environ["JIRA_URL"],
        basic_auth=(os.environ["JIRA_USER"], os.environ["JIRA_API_TOKEN"]),
    )
    issue = jira.create_issue(
        project="OPS",
        issuetype={"name": "Change"},
        summary=f"Bench deploy {bench_id} to production",
        description=f"Benchmark step {bench_id} waits for this approval.",
        labels=["deploy", "bench"],
    )
    jira.transition_issue(issue, "Request approval")
    print(f"created {issue.key}, waiting for approval", file=sys.stderr)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jira.issue(issue.key, fields="status").fields.status.name
        if status in ("Approved", "Done"):
            print(f"{issue.key} approved", file=sys.stderr)
            return 0
        if status in ("Rejected", "Won't Do"):
            print(f"{issue.key} rejected", file=sys.stderr)
            return 3
        time.sleep(interval)
    return 4


if __name__ == "__main__":
    sys.exit(main())
