#!/usr/bin/env bash
# The GPU checks of docs/gpu.md, in one run, on a CUDA machine that has PyTorch but perhaps no
# Rust: the binary and test executables are built elsewhere for that machine's libtorch
# (../shared/docs/libtorch.md § GPU) and copied into this checkout.
#
# Usage: scripts/gpu_check.sh BIN TESTS_DIR OUT [SECONDS]
#   BIN        the bigram binary
#   TESTS_DIR  the folder holding the integration test executable (tests/it, built as it-*)
#   OUT        a folder for log.txt (every step's output, in order) and summary.txt (a line
#              per step): two files, as a device run may bring back only a few
#   SECONDS    stop starting steps after this many seconds (default 400); later steps are the
#              extras, so a short budget still gives the CUDA tests and the GPU benchmark.
# BIGRAM_PYTHON (default python3) must have torch; its torch/lib is put first on
# LD_LIBRARY_PATH, and it is the PyTorch reference.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=$(realpath "$1") tests=$(realpath "$2") out=$3 budget=${4:-400}
mkdir -p "$out"
python=${BIGRAM_PYTHON:-python3}
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
  { echo "gpu_check: $python has no torch" >&2; exit 1; }
# The test executables read these at run time (tests/common: project_root, bigram).
export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export BIGRAM_PYTHON=$python CARGO_MANIFEST_DIR=$root CARGO_BIN_EXE_bigram=$bin
data=data/names.txt
work=$(mktemp -d)
summary=$out/summary.txt log=$out/log.txt
: >"$summary"
: >"$log"

# step NAME COMMAND...: its stdout and stderr appended to log.txt, a line in summary.txt.
step() {
  local name=$1 start=$SECONDS
  shift
  if ((SECONDS >= budget)); then
    echo "$name skipped (budget of ${budget}s spent)" >>"$summary"
    return
  fi
  echo "=== $name: $*" >>"$log"
  "$@" >>"$log" 2>&1
  local rc=$?
  echo "=== $name rc=$rc" >>"$log"
  echo "$name rc=$rc $((SECONDS - start))s" >>"$summary"
}
test_exe() { find "$tests" -maxdepth 1 -type f -name "$1-*" -perm -u+x | head -1; }

step machine bash -c 'nvidia-smi; lscpu | head -20; ldd "$1" | grep -E "torch|cuda"' _ "$bin"
step version "$bin" --version --json
# The binary loads libtorch's CUDA backend late (bigram::device::load_cuda_backend): rc=0 when
# it still sees a device.
step cuda-seen bash -c '"$1" --version --json | grep -q "\"cuda_devices\":[1-9]"' _ "$bin"
step cuda-tests "$(test_exe it)" cuda:: --nocapture --test-threads 1
step bench-cuda "$python" scripts/bench.py --bigram "$bin" --data $data --device cuda
step bench-cuda-1000 "$python" scripts/bench.py --bigram "$bin" --data $data --device cuda --epochs 1000 --repeats 3
# The kernels of one epoch by how its gradient is taken (bigram now: autograd.grad).
step epoch-ops "$python" scripts/research/epoch_ops.py --data $data --device cuda
step train-cuda "$bin" train --json --device cuda --data $data --out "$work/cuda.safetensors"
step train-cpu "$bin" train --json --device cpu --data $data --out "$work/cpu.safetensors"
step eval-cuda "$bin" eval --json --model "$work/cuda.safetensors" --data $data
step eval-cpu "$bin" eval --json --model "$work/cpu.safetensors" --data $data
step names-cuda "$bin" sample --model "$work/cuda.safetensors" -n 20
step names-cpu "$bin" sample --model "$work/cpu.safetensors" -n 20
step train-auto "$bin" train --json --device auto --data $data --out "$work/auto.safetensors"
step train-index-cuda "$bin" train --json --method index --device cuda --data $data --out "$work/i.safetensors"
step train-order3-cuda "$bin" train --json --order 3 --device cuda --data $data --out "$work/o3.safetensors"
step train-split-cuda "$bin" train --json --split 80/10/10 --device cuda --data $data --out "$work/s.safetensors"
step tune-cuda "$bin" tune --json --reg 0,0.01,0.1 --device cuda --data $data
step notebook-cuda "$bin" notebook --device cuda --data $data
step parity-cuda "$bin" parity --device cuda --data $data
step parity-cuda-order3 "$bin" parity --device cuda --order 3 --data $data
step parity-cuda-notebook "$bin" parity --device cuda --notebook --data $data
# Expected: rc=2 (diverged, its epoch named) and rc=130 with "interrupted at epoch N" in the
# log (stopped at a read of the losses, after CUDA's start-up). -k: a run that ignored the
# interrupt is killed 20 s later instead of holding the machine.
step diverge-cuda "$bin" train --device cuda --lr 1000000 --data $data --out "$work/d.safetensors"
step interrupt-cuda timeout -k 20 --preserve-status -s INT 15 "$bin" train --device cuda --epochs 100000000 --data $data --out "$work/x.safetensors"
step parity-cpu "$bin" parity --device cpu --data $data
step parity-cpu-notebook "$bin" parity --device cpu --notebook --data $data
step bench-cpu "$python" scripts/bench.py --bigram "$bin" --data $data --quick
# The exact CPU tests against this machine's PyTorch, on another CPU than the project's.
step parity-tests "$(test_exe it)" parity:: --test-threads 2
step notebook-tests "$(test_exe it)" notebook:: --test-threads 2
rm -rf "$work"
cat "$summary"
