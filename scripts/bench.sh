#!/usr/bin/env bash
# Benchmark bigram against PyTorch (and counting against `wc -l`) on this machine, in one run,
# and print one table; scripts/bench.py does the measuring.
# Usage: scripts/bench.sh [--quick | --tiny] [--device cuda] [more scripts/bench.py options]
# BIGRAM_BIN=path uses that binary instead of building target/release/bigram.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# cargo gives its processes BIGRAM_PYTHON (from .cargo/config.toml); otherwise ask setup.
python=${BIGRAM_PYTHON:-$(scripts/setup.sh --print-python)}
if [ -n "${BIGRAM_BIN:-}" ]; then
  bin=$BIGRAM_BIN
else
  cargo build --release --quiet
  bin=target/release/bigram
fi
exec "$python" scripts/bench.py --bigram "$bin" --data data/names.txt "$@"
