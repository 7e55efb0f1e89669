#!/usr/bin/env bash
# Creates the lab: a kind cluster with Istio (demo profile), Bookinfo in namespace bookinfo, and
# skillbox built from deploy/Containerfile and installed with `kubectl apply -k deploy/`.
# Port-forwards (their PIDs recorded for down.sh): Bookinfo on http://localhost:8081/productpage,
# skillbox metrics on http://localhost:8080/metrics. Re-running it is safe.
# Needs: docker, kind, kubectl, istioctl (${ISTIO_VERSION}), curl.
set -euo pipefail
# shellcheck source=deploy/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need docker kind kubectl istioctl curl
mkdir -p "$STATE_DIR"

if cluster_exists; then
  log "kind cluster ${CLUSTER} exists; reusing it"
else
  log "creating kind cluster ${CLUSTER}"
  kind create cluster --name "$CLUSTER" --wait 120s
fi

client="$(istioctl version --remote=false 2>/dev/null | head -n1 || true)"
[[ "$client" == *"${ISTIO_VERSION}"* ]] || log "warning: istioctl reports '${client}', the lab pins ${ISTIO_VERSION}"
log "installing Istio (demo profile: istiod + ingress gateway)"
istioctl install -y --context "$CONTEXT" --set profile=demo
k -n istio-system wait --for=condition=Available deployment --all --timeout=300s

log "installing Bookinfo ${ISTIO_VERSION} in namespace bookinfo"
apply_bookinfo
k -n bookinfo wait --for=condition=Available deployment --all --timeout=600s

if [[ "${SKILLBOX_LAB_SKIP_BUILD:-0}" != 1 ]]; then
  log "building ${IMAGE} from deploy/Containerfile (the first build takes a while)"
  docker build -f "${REPO_DIR}/deploy/Containerfile" -t "$IMAGE" "$REPO_DIR"
fi
log "loading ${IMAGE} into the kind nodes"
kind load docker-image "$IMAGE" --name "$CLUSTER"

log "installing skillbox (CRDs first, so the Skills find their kind)"
k apply -f "${REPO_DIR}/deploy/crds/"
k wait --for=condition=Established crd/skills.skillbox.dev crd/investigations.skillbox.dev \
  crd/modelproviders.skillbox.dev --timeout=60s
k apply -k "${REPO_DIR}/deploy/"
if [[ "$IMAGE" != "skillbox:0.1.0" ]]; then
  k -n skillbox-system set image deployment/skillbox-controller "controller=${IMAGE}"
fi
k -n skillbox-system rollout status deployment/skillbox-controller --timeout=300s

start_port_forward() {
  local ns="$1" target="$2" ports="$3" pid
  k -n "$ns" port-forward "$target" "$ports" >"${STATE_DIR}/port-forward-${ns}.log" 2>&1 &
  pid=$!
  echo "$pid" >>"$PIDS_FILE"
  log "port-forward ${ns}/${target} ${ports} (pid ${pid})"
}
if [[ -s "$PIDS_FILE" ]]; then
  log "port-forwards already recorded in ${PIDS_FILE}; not starting more"
else
  start_port_forward istio-system svc/istio-ingressgateway 8081:80
  start_port_forward skillbox-system svc/skillbox-controller-metrics 8080:8080
fi

log "ready: deploy/lab/break.sh list | <code> | all; deploy/lab/investigate.sh; deploy/lab/down.sh"
