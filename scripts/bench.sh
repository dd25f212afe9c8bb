#!/usr/bin/env bash
# Benchmark bigram against PyTorch on this machine, in one run, and print one table
# (scripts/bench.py does the measuring). Usage: scripts/bench.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh
cargo build --release --quiet
python=$(sed -n 's/^BIGRAM_PYTHON = "\(.*\)"$/\1/p' .cargo/config.toml)
exec "$python" scripts/bench.py --bigram target/release/bigram --data data/names.txt "$@"
