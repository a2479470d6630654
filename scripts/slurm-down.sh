#!/usr/bin/env bash
# Stop the single-node SLURM cluster started by scripts/slurm-up.sh (idempotent).
#
# Stops slurmd, slurmctld and munged, each by the pid in its pid file, and
# waits until they are gone. Running it when nothing runs is not an error.
# Environment: SLURM_DOWN_KEEP_MUNGE=1 leaves munged running.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n --preserve-env=SLURM_DOWN_KEEP_MUNGE "$0" "$@"
    fi
    echo "slurm-down: needs root (or password-less sudo) to stop the daemons" >&2
    exit 1
fi

log() { printf 'slurm-down: %s\n' "$*" >&2; }

stop() {  # stop NAME PIDFILE
    local name=$1 pidfile=$2 pid
    [[ -s $pidfile ]] || { log "$name: not running (no pid file)"; return 0; }
    pid=$(cat "$pidfile")
    if ! kill -0 "$pid" 2>/dev/null; then
        log "$name: not running (stale pid file)"
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { log "$name: stopped (pid $pid)"; rm -f "$pidfile"; return 0; }
        sleep 0.25
    done
    log "$name: still running after 15 s, sending SIGKILL to pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
if [[ ${SLURM_DOWN_KEEP_MUNGE:-0} != 1 ]]; then
    stop munged /run/munge/munged.pid
fi
