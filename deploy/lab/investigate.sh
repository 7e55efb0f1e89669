#!/usr/bin/env bash
# For each break (default: all of them), one at a time: undo every break, apply this one, let the
# symptom develop, create an Investigation of the break's target (`# target:` in its manifest) and
# wait for `.status.verdict`; then check that the finding code named by the break was reported.
#   investigate.sh [<code>...]
# SKILLBOX_LAB_SETTLE (seconds, default 90): time for crash loops, pull back-offs and probe
# failures to show before investigating. SKILLBOX_LAB_TIMEOUT (default 120): wait for a verdict.
set -euo pipefail
# shellcheck source=deploy/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need kind kubectl curl
cluster_exists || die "kind cluster ${CLUSTER} does not exist; run deploy/lab/up.sh first"
settle="${SKILLBOX_LAB_SETTLE:-90}"
timeout="${SKILLBOX_LAB_TIMEOUT:-120}"

codes=("$@")
if [[ ${#codes[@]} -eq 0 ]]; then
  mapfile -t codes < <(break_codes)
fi

failed=0
summary=()
for code in "${codes[@]}"; do
  target="$(break_target "$code")"
  read -r kind ns name <<<"$target"
  inv="lab-${code//./-}"
  "${LAB_DIR}/break.sh" reset >/dev/null
  "${LAB_DIR}/break.sh" "$code"
  log "waiting ${settle}s for the symptom of ${code}"
  sleep "$settle"

  # spec.target is immutable: a new run is a new Investigation.
  k -n "$ns" delete investigation "$inv" --ignore-not-found >/dev/null
  k apply -f - <<YAML
apiVersion: skillbox.dev/v1alpha1
kind: Investigation
metadata:
  name: ${inv}
  namespace: ${ns}
  labels:
    skillbox.dev/lab: investigation
spec:
  target:
    kind: ${kind}
    name: ${name}
    namespace: ${ns}
  llm: never
YAML

  verdict=""
  for _ in $(seq "$timeout"); do
    verdict="$(k -n "$ns" get investigation "$inv" -o jsonpath='{.status.verdict}' 2>/dev/null || true)"
    [[ -n "$verdict" ]] && break
    sleep 1
  done
  found="$(k -n "$ns" get investigation "$inv" -o jsonpath='{.status.findings[*].code}' 2>/dev/null || true)"
  if [[ -z "$verdict" ]]; then
    result="NO VERDICT after ${timeout}s"
    failed=1
  elif [[ " ${found} " == *" ${code} "* ]]; then
    result="ok (${verdict}: ${found})"
  else
    result="MISSING ${code} (${verdict}: ${found:-no findings})"
    failed=1
  fi
  summary+=("$(printf '%-36s %-44s %s' "$code" "${kind} ${ns}/${name}" "$result")")
done

"${LAB_DIR}/break.sh" reset >/dev/null
printf '\n%-36s %-44s %s\n' CODE TARGET RESULT
printf '%s\n' "${summary[@]}"
exit "$failed"
