#!/usr/bin/env bash
# Stop the server started by scripts/llm-server-up.sh (only that process, by its recorded PID).
set -euo pipefail
STATE=${DISCOVERY_LLM_STATE:-${TMPDIR:-/tmp}/discovery-llm-server}
if [ ! -f "$STATE/pid" ]; then
    echo "no server recorded in $STATE/pid" >&2
    exit 0
fi
PID=$(cat "$STATE/pid")
if kill -0 "$PID" 2> /dev/null; then
    kill "$PID"
    for _ in $(seq 1 20); do kill -0 "$PID" 2> /dev/null || break; sleep 0.5; done
    kill -0 "$PID" 2> /dev/null && kill -9 "$PID"
fi
rm -f "$STATE/pid"
echo "stopped $PID"
