#!/usr/bin/env bash
# Tears the lab down: stops the port-forwards up.sh started (only those, by their recorded PIDs),
# deletes the kind cluster and the lab's state folder. Safe to run twice, or after a failed up.sh.
set -euo pipefail
# shellcheck source=deploy/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -f "$PIDS_FILE" ]]; then
  while read -r pid; do
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    # Only a process that is still our kubectl port-forward (a PID may have been reused).
    if kill -0 "$pid" 2>/dev/null && ps -o args= -p "$pid" | grep -q 'port-forward'; then
      log "stopping port-forward (pid ${pid})"
      kill "$pid" || true
    fi
  done <"$PIDS_FILE"
  rm -f "$PIDS_FILE"
fi

if command -v kind >/dev/null 2>&1 && cluster_exists; then
  log "deleting kind cluster ${CLUSTER}"
  kind delete cluster --name "$CLUSTER"
else
  log "no kind cluster ${CLUSTER}"
fi

rm -rf "$STATE_DIR"
log "lab is down"
