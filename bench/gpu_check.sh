#!/usr/bin/env bash
# On a machine with CUDA: verify the GPU path once, end to end.
#   1. the tests marked `gpu` (tests/ops/test_gpu.py: a run on cuda, cuda vs cpu);
#   2. one run with "device": "cuda" through the real stack (Redis, a worker listening on
#      the gpu queue, daphne), followed with the `descent` CLI until it succeeds;
#   3. the landscape bench on the GPU (vectorized surface vs a per-point loop).
# Needs a CUDA build of torch in the environment (PY, default .venv/bin/python).
# Exit status: 0 when all three pass.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

"$PY" - <<'PY'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"gpu_check: torch {torch.__version__} sees no CUDA device (a CPU build, or no driver)")
print(f"gpu_check: torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
PY

echo "== 1. tests marked gpu"
"$PY" -m pytest -q -p no:cacheprovider -m gpu tests/ops/test_gpu.py

echo "== 2. one run with device cuda through Redis + a gpu worker + daphne"
work=$(mktemp -d /tmp/descent-gpu.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export DJANGO_SETTINGS_MODULE=webapp.settings DESCENT_VAR_DIR="$work" DATABASE_URL="sqlite:///$work/gpu.sqlite3"
port=$("$PY" -c 'from webapp.serve import free_port; print(free_port())')
rport=$("$PY" -c 'from webapp.serve import free_port; print(free_port())')
"$PY" -c "from webapp.serve import redis_server_binary as b; print(b())" >"$work/redis-bin"
"$(cat "$work/redis-bin")" --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning &
pids+=($!)
export REDIS_URL="redis://127.0.0.1:$rport/0"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" -m celery -A webapp worker -l warning -P solo -Q gpu,celery --without-gossip --without-mingle -n gpu-check@%h &
pids+=($!)
"$PY" -m daphne -v 0 -b 127.0.0.1 -p "$port" webapp.asgi:application &
pids+=($!)
"$PY" -c "from webapp.serve import wait_port; wait_port('127.0.0.1', $port, 60)"
cat >"$work/spec.json" <<'JSON'
{"name": "gpu check", "seed": 1, "data": {"dataset": "digits"},
 "model": {"layers": [{"type": "conv2d", "filters": 16, "kernel": 3, "activation": "relu"}, {"type": "maxpool2d", "kernel": 2},
                      {"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}]},
 "training": {"epochs": 5, "device": "cuda"},
 "monitor": {"landscape": {"mode": "2d", "resolution": 21, "when": "end"}}}
JSON
"$PY" -m webapp.cli --server "http://127.0.0.1:$port" --timeout 120 run "$work/spec.json" --watch --plain | tee "$work/run.log"
grep -q "succeeded" "$work/run.log"
run_id=$(grep -o '/r/[A-Za-z0-9_-]*' "$work/run.log" | head -1 | cut -d/ -f3)
device=$("$PY" -c "import json,urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:$port/api/runs/$run_id'))['device'])")
echo "gpu_check: the run trained on: $device"
case "$device" in cuda*) ;; *) echo "gpu_check: expected a cuda device" >&2; exit 1;; esac

echo "== 3. landscape bench on the GPU"
"$PY" bench/bench_landscape.py --device cuda --repeats 2
echo "gpu_check: all passed"
