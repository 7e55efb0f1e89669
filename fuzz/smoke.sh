#!/usr/bin/env bash
# A bounded fuzz smoke: builds every fuzz target (nightly, AddressSanitizer) and runs each for
# SECONDS (default 20) from its checked-in seeds, then prints executions and exec/s per target.
# New inputs go to a scratch folder (the checked-in corpus stays as it is); a crash is written to
# fuzz/artifacts/<target>/ and makes the script fail. Not part of .ci/run (see ../FUZZING.md).
#
# Usage: fuzz/smoke.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"

seconds=20
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi

command -v cargo-fuzz >/dev/null || {
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 1
}
# The fuzz workspace resolves its dependencies as the main one does: same versions as CI tests.
[[ -f Cargo.lock ]] || cp ../Cargo.lock Cargo.lock

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

started=$(date +%s)
if [[ ${#targets[@]} -eq 1 ]]; then
    cargo fuzz build "${targets[0]}"
else
    cargo fuzz build
fi
echo "== build: $(( $(date +%s) - started )) s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
printf '%-20s %12s %10s %8s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    result=ok
    if ! cargo fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=30 >"$log" 2>&1; then
        result="FAILED (see fuzz/artifacts/$t/)"
        failed+=("$t")
        tail -n 40 "$log" >&2
    fi
    final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
    corpus=$(find "corpus/$t" "$scratch/$t" -type f | wc -l)
    printf '%-20s %12s %10s %8s  %s\n' "$t" "$(final_stat number_of_executed_units)" \
        "$(final_stat average_exec_per_sec)" "$corpus" "$result"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "property violated in: ${failed[*]}" >&2
    exit 1
fi
