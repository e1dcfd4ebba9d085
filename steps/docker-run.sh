#!/bin/sh
# Example: jira-gate as a step of any container runner (Jenkins, Buildkite, a cron job, a shell).
# The stanza is mounted read-only, the credentials come from the environment, the result record
# lands in ./out/result.json, and the exit code is the decision:
#   0 approved (or written), 2 invalid stanza, 3 rejected, 4 timed out, 5 Jira error, 6 cancelled.
set -eu

: "${JIRA_URL:?set JIRA_URL, e.g. https://example.atlassian.net}"
: "${JIRA_USER:?set JIRA_USER to the Jira account email}"
: "${JIRA_API_TOKEN:?set JIRA_API_TOKEN to an API token of that account}"
IMAGE="${JIRA_GATE_IMAGE:-ghcr.io/jira-gate/jira-gate:0.1.0}"
STANZA="${1:-steps/cloud-change-approval.yml}"

mkdir -p out
# The image runs as uid 10001; let it write the result file.
chmod 0777 out

status=0
docker run --rm \
    --env JIRA_URL --env JIRA_USER --env JIRA_API_TOKEN \
    --env JIRA_ISSUE="${JIRA_ISSUE:-}" \
    --volume "$PWD/$STANZA:/config/step.yml:ro" \
    --volume "$PWD/out:/out" \
    "$IMAGE" run /config/step.yml --result-file /out/result.json || status=$?

case "$status" in
    0) echo "approved: deploying" ;;
    3) echo "rejected: not deploying" >&2 ;;
    4) echo "no decision before the timeout: not deploying" >&2 ;;
    *) echo "jira-gate failed with exit code $status" >&2 ;;
esac
exit "$status"
