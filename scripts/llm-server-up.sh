#!/usr/bin/env bash
# Start a local OpenAI-compatible LLM server (llama-cpp-python) on loopback for the LLM path.
#
#   scripts/llm-server-up.sh [MODEL.gguf] [PORT]
#
# Without MODEL a tiny random llama is written with the gguf package (tests and CI: valid JSON under a
# schema grammar, meaningless words). Prints the base URL to use as DISCOVERY_LLM_URL; the PID goes to
# ${DISCOVERY_LLM_STATE:-$TMPDIR/discovery-llm-server}/pid for scripts/llm-server-down.sh.
#
# Needs: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]" gguf
set -euo pipefail
PY=${PYTHON:-python}
STATE=${DISCOVERY_LLM_STATE:-${TMPDIR:-/tmp}/discovery-llm-server}
MODEL=${1:-}
PORT=${2:-8080}
mkdir -p "$STATE"
if [ -z "$MODEL" ]; then
    MODEL="$STATE/tiny-random-llama.gguf"
    "$PY" -m discovery.llm.tiny_gguf "$MODEL" > /dev/null
fi
if [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2> /dev/null; then
    echo "a server is already running (pid $(cat "$STATE/pid")); scripts/llm-server-down.sh stops it" >&2
    exit 1
fi
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} nohup "$PY" -m llama_cpp.server --model "$MODEL" --host 127.0.0.1 \
    --port "$PORT" --n_ctx 4096 --n_threads "${LLM_THREADS:-1}" --chat_format chatml --model_alias local \
    > "$STATE/server.log" 2>&1 &
echo $! > "$STATE/pid"
for _ in $(seq 1 240); do
    if "$PY" -c "import httpx,sys; sys.exit(0 if httpx.get('http://127.0.0.1:$PORT/v1/models', timeout=2).status_code == 200 else 1)" 2> /dev/null; then
        echo "http://127.0.0.1:$PORT/v1"
        exit 0
    fi
    if ! kill -0 "$(cat "$STATE/pid")" 2> /dev/null; then
        echo "server exited; see $STATE/server.log" >&2
        exit 1
    fi
    sleep 0.5
done
echo "server did not answer within 120 s; see $STATE/server.log" >&2
exit 1
