#!/usr/bin/env bash
# Breaks Bookinfo on purpose, one manifest per finding code (deploy/lab/breaks/<code>.yaml).
#   break.sh list          the codes
#   break.sh <code>...     apply those breaks
#   break.sh all           apply every break (each touches objects no other break touches)
#   break.sh reset         undo every break: delete what breaks added, re-apply upstream Bookinfo
set -euo pipefail
# shellcheck source=deploy/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $(basename "$0") list | all | reset | <code>..." >&2
  echo "codes: $(break_codes | tr '\n' ' ')" >&2
  exit 2
}

reset() {
  log "deleting objects the breaks added (label skillbox.dev/lab=break)"
  k delete deployments,serviceaccounts,peerauthentications.security.istio.io \
    --all-namespaces -l skillbox.dev/lab=break --ignore-not-found
  k delete namespaces -l skillbox.dev/lab=break --ignore-not-found
  log "re-applying upstream Bookinfo ${ISTIO_VERSION}"
  apply_bookinfo
}

apply_break() {
  local code="$1" file="${BREAKS_DIR}/$1.yaml"
  [[ -f "$file" ]] || { echo "unknown code: ${code}" >&2; usage; }
  log "breaking: ${code}"
  k apply -f "$file"
}

[[ $# -ge 1 ]] || usage
need kind kubectl curl
cluster_exists || die "kind cluster ${CLUSTER} does not exist; run deploy/lab/up.sh first"
case "$1" in
  list) break_codes ;;
  reset) reset ;;
  all)
    while read -r code; do apply_break "$code"; done < <(break_codes)
    ;;
  -h | --help) usage ;;
  *)
    for code in "$@"; do apply_break "$code"; done
    ;;
esac
