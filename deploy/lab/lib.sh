# shellcheck shell=bash
# Shared settings and helpers of the lab scripts; sourced, not run.
# Variables here are used by the scripts that source this file:
# shellcheck disable=SC2034

# The pinned versions: Istio as in the scenarios' snapshots (../shared/scenarios/README.md), and the
# Bookinfo manifests of that Istio release.
ISTIO_VERSION="${ISTIO_VERSION:-1.28.2}"
BOOKINFO_URL="https://raw.githubusercontent.com/istio/istio/${ISTIO_VERSION}/samples/bookinfo"
CLUSTER="${SKILLBOX_LAB_CLUSTER:-skillbox-lab}"
IMAGE="${SKILLBOX_IMAGE:-skillbox:0.1.0}"
CONTEXT="kind-${CLUSTER}"

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${LAB_DIR}/../.." && pwd)"
BREAKS_DIR="${LAB_DIR}/breaks"
# Outside the repository: PIDs of port-forwards and the downloaded Bookinfo manifests.
STATE_DIR="${SKILLBOX_LAB_STATE:-${XDG_RUNTIME_DIR:-/tmp}/skillbox-lab-${CLUSTER}}"
PIDS_FILE="${STATE_DIR}/port-forward.pids"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is required but not on PATH (see deploy/lab/README.md)"
  done
}

# kubectl against the lab cluster only, whatever the current context is.
k() { kubectl --context "$CONTEXT" "$@"; }

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

# Upstream Bookinfo manifests of ISTIO_VERSION, downloaded once into STATE_DIR.
BOOKINFO_FILES=(
  platform/kube/bookinfo.yaml
  networking/destination-rule-all.yaml
  networking/virtual-service-all-v1.yaml
  networking/bookinfo-gateway.yaml
)

fetch_bookinfo() {
  local f dest
  mkdir -p "${STATE_DIR}/bookinfo"
  for f in "${BOOKINFO_FILES[@]}"; do
    dest="${STATE_DIR}/bookinfo/$(basename "$f")"
    [[ -s "$dest" ]] || curl -fsSL --retry 3 -o "$dest" "${BOOKINFO_URL}/${f}"
  done
}

# Namespace bookinfo with sidecar injection, then the upstream manifests (again: this is also how a
# break is undone, as `kubectl apply` removes what the break's apply added).
apply_bookinfo() {
  local f
  fetch_bookinfo
  k apply -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels:
    istio-injection: enabled
YAML
  for f in "${BOOKINFO_FILES[@]}"; do
    k apply -n bookinfo -f "${STATE_DIR}/bookinfo/$(basename "$f")"
  done
}

# The finding codes that have a break manifest, sorted.
break_codes() {
  local f
  for f in "${BREAKS_DIR}"/*.yaml; do
    basename "$f" .yaml
  done
}

# "Kind namespace name" from a break manifest's `# target: Kind namespace/name` line.
break_target() {
  local line
  line="$(grep -m1 '^# target: ' "${BREAKS_DIR}/$1.yaml")" || die "no '# target:' line in breaks/$1.yaml"
  line="${line#\# target: }"
  printf '%s %s %s\n' "${line%% *}" "$(dirname "${line#* }")" "$(basename "${line#* }")"
}
