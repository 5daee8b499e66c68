#!/usr/bin/env bash
# The GPU runs of the "Fast optimizers" chapter, as one prepared script for a lent GPU
# machine whose time is short.
#
#   bash scripts/bench_cuda.sh OUT_DIR eager      # smoke test, then every row but compiled
#   bash scripts/bench_cuda.sh OUT_DIR compiled [ALGORITHM ...]
#
# `eager` writes OUT_DIR/cuda-large.json and OUT_DIR/cuda-small.json; `compiled` adds the
# `torch.compile(opt.step)` rows of the named algorithms (all, by default) to
# OUT_DIR/cuda-large.json, starting from labml_optim/fast/cuda-large.json when that exists.
# Each phase has its own time limit (BENCH_LIMIT_S, seconds, for the compiled phase) and
# the bench writes its JSON after every algorithm, so a phase that runs out keeps what it
# measured. The peers' packages are found on PYTHONPATH where they are installed.
set -uo pipefail
out=${1:?OUT_DIR}
phase=${2:?eager or compiled}
shift 2
mkdir -p "$out"
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
bench=(python3 scripts/bench_optim.py --device cuda)

case $phase in
eager)
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
    python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
    # Smoke: every algorithm and implementation on a tiny set, one step each.
    timeout 90 "${bench[@]}" --million 0.2 --tensors 10 --steps 1 --rounds 1 --no-compile \
        2>&1 | tail -n 60 | tee "$out/smoke.log"
    # 24 M parameters in 150 tensors: each step is well under a millisecond on a GPU, so
    # more steps per round than on the CPU keep the host clock's resolution out of it.
    timeout 150 "${bench[@]}" --no-compile --steps 20 --rounds 7 \
        --json "$out/cuda-large.json" 2>&1 | tee "$out/large-eager.log"
    # 2,000 tensors of 4,096 floats: here a for-loop's launches dominate.
    timeout 180 "${bench[@]}" --small --no-compile --steps 3 --rounds 5 \
        --json "$out/cuda-small.json" 2>&1 | tee "$out/small-eager.log"
    ;;
compiled)
    if [ -f labml_optim/fast/cuda-large.json ]; then
        cp labml_optim/fast/cuda-large.json "$out/cuda-large.json"
    fi
    only=()
    if [ $# -gt 0 ]; then only=(--only "$@"); fi
    timeout "${BENCH_LIMIT_S:-420}" "${bench[@]}" --steps 20 --rounds 7 --compile-cost \
        "${only[@]}" --append --json "$out/cuda-large.json" 2>&1 | tee "$out/large-compiled.log"
    ;;
*)
    echo "unknown phase: $phase" >&2
    exit 2
    ;;
esac
