#!/usr/bin/env bash
# The GPU path, measured, in one bounded run (under 8 minutes) on a machine with a CUDA GPU:
# the cuda-selected tests, Fashion-MNIST on CUDA at batch 128 and 1024 (images/s, and against the
# CPU), a 1-GPU torchrun run and the offscreen self-test. Progress on stderr, one JSON line on stdout.
# Without a CUDA GPU it says so in one line, prints {"cuda": false, ...} and exits 2.
#   bash benchmarks/gpu_check.sh            (PYTHON=path/to/python to pick the interpreter)
set -u
cd "$(dirname "$0")/.." || exit 1
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

probe=$(timeout 45 "$PY" -c '
import torch
if torch.cuda.is_available():
    print("yes")
else:
    print("torch", torch.__version__, "built for CUDA", torch.version.cuda, "sees no CUDA device")
' 2>&1 | tail -n 1)
if [ "$probe" != "yes" ]; then
    reason=${probe:-"the CUDA probe printed nothing (timed out or crashed)"}
    echo "no CUDA GPU here: $reason" >&2
    "$PY" -c 'import json, sys; print(json.dumps({"benchmark": "gpu_check", "cuda": False, "reason": sys.argv[1]}))' "$reason" \
        || echo '{"benchmark": "gpu_check", "cuda": false}'
    exit 2
fi

# Every step inside has its own limit (6.5 minutes in all); this one only catches a helper that hangs.
timeout -k 5 430 "$PY" -m benchmarks.gpu_check "$@"
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "gpu_check: the helper ran past 430 s and was stopped" >&2
    echo '{"benchmark": "gpu_check", "cuda": true, "error": "timed out after 430 s"}'
fi
exit "$rc"
