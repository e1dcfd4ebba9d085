#!/usr/bin/env bash
# The hand-written alternative to jira-gate as a curl + jq shell loop.
#
# Create a Change in OPS, move it to "Awaiting approval", poll its status every
# BENCH_INTERVAL_S seconds until Approved/Done (exit 0) or Rejected/Won't Do (exit 3),
# or BENCH_TIMEOUT_S seconds pass (exit 4). Reads JIRA_URL, JIRA_USER, JIRA_API_TOKEN, BENCH_ID.
set -euo pipefail

: "${JIRA_URL:?}" "${JIRA_USER:?}" "${JIRA_API_TOKEN:?}"
interval=${BENCH_INTERVAL_S:-2}
timeout=${BENCH_TIMEOUT_S:-300}
id=${BENCH_ID:-0}
api="$JIRA_URL/rest/api/2"

jira() {
  curl -sS --fail-with-body -u "$JIRA_USER:$JIRA_API_TOKEN" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' "$@"
}

body=$(jq -n --arg id "$id" '{fields: {
  project: {key: "OPS"}, issuetype: {name: "Change"},
  summary: "Bench deploy \($id) to production",
  description: "Benchmark step \($id) waits for this approval.",
  labels: ["deploy", "bench"]}}')
key=$(jira -X POST "$api/issue" -d "$body" | jq -r .key)
transition=$(jira "$api/issue/$key/transitions" |
  jq -r '.transitions[] | select(.name == "Request approval") | .id')
jira -X POST "$api/issue/$key/transitions" -d "{\"transition\":{\"id\":\"$transition\"}}" >/dev/null
echo "created $key, waiting for approval" >&2

deadline=$((SECONDS + ${timeout%.*}))
while ((SECONDS < deadline)); do
  status=$(jira "$api/issue/$key?fields=status" | jq -r .fields.status.name)
  case "$status" in
    Approved | Done) echo "$key approved" >&2; exit 0 ;;
    Rejected | "Won't Do") echo "$key rejected" >&2; exit 3 ;;
  esac
  sleep "$interval"
done
exit 4
