#!/usr/bin/env python3
"""Time bigram's training methods, samplers and counting against the PyTorch loop.

Every figure is measured in this run on this machine; each row has its ratio to the PyTorch
row of its group. Training times are measured inside each process (data loading apart).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def wall_seconds(cmd):
    """Run cmd with stdout to /dev/null; return its wall time."""
    start = time.perf_counter()
    run_ok = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if run_ok.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {run_ok.stderr.decode()}")
    return time.perf_counter() - start


def median(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bigram", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--names", type=int, default=100_000)
    ap.add_argument("--count-mb", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.count_mb = 1, 50
    rows = []
    tmp = tempfile.mkdtemp(prefix="bigram-bench-")

    # --- training: PyTorch's one-hot loop vs each Rust method --------------------------------
    ref = os.path.join(HERE, "reference.py")
    py_times = []
    for _ in range(args.repeats):
        out = run([sys.executable, ref, "--data", args.data, "--epochs", str(args.epochs), "-n", "1"])
        py_times.append(json.loads(out.stdout)["train_seconds"])
    py = median(py_times)
    rows.append(("train", f"PyTorch one-hot loop, {args.epochs} epochs", f"{py:.4f} s", 1.0, "baseline"))
    for method in ("onehot", "index", "counts"):
        times, loads = [], []
        for _ in range(args.repeats):
            out = run([args.bigram, "train", "--json", "--method", method, "--epochs", str(args.epochs),
                       "--data", args.data, "--out", os.path.join(tmp, "m.safetensors")])
            report = json.loads(out.stdout)
            times.append(report["seconds"])
            loads.append(report["load_seconds"])
        t = median(times)
        rows.append(("train", f"bigram --method {method}", f"{t:.4f} s", t / py,
                     f"{py / t:,.1f}x faster; data loading {median(loads):.3f} s"))

    # --- sampling -------------------------------------------------------------------------------
    model = os.path.join(tmp, "m.safetensors")
    run([args.bigram, "train", "--method", "counts", "--data", args.data, "--out", model])
    exact_s = wall_seconds([args.bigram, "sample", "--model", model, "-n", str(args.names)])
    fast_s = wall_seconds([args.bigram, "sample", "--fast", "--model", model, "-n", str(args.names)])
    million_s = wall_seconds([args.bigram, "sample", "--fast", "--model", model, "-n", "1000000"])
    rows.append(("sample", f"exact sampler, {args.names:,} names", f"{args.names / exact_s:,.0f} names/s", 1.0, f"{exact_s:.2f} s"))
    rows.append(("sample", f"fast sampler, {args.names:,} names", f"{args.names / fast_s:,.0f} names/s", exact_s / fast_s, f"{fast_s:.3f} s, process start included"))
    rows.append(("sample", "fast sampler, 1,000,000 names", f"{1e6 / million_s:,.0f} names/s", (exact_s / args.names) / (million_s / 1e6), f"{million_s:.3f} s to /dev/null"))

    # --- counting ---------------------------------------------------------------------------------
    with open(args.data, "rb") as f:
        block = f.read()
    if not block.endswith(b"\n"):
        block += b"\n"
    big = os.path.join(tmp, "big.txt")
    small = os.path.join(tmp, "small.txt")
    with open(big, "wb") as f:
        for _ in range(max(1, args.count_mb * 2**20 // len(block))):
            f.write(block)
    with open(small, "wb") as f:
        f.write((block * 5)[: 2**20].rsplit(b"\n", 1)[0] + b"\n")
    size_mb = os.path.getsize(big) / 2**20
    with open(big, "rb") as f:  # page-cache the file
        while f.read(1 << 24):
            pass
    out = os.path.join(tmp, "c.safetensors")

    def count(path):
        start = time.perf_counter()
        report = json.loads(run([args.bigram, "count", "--json", "--data", path, "--out", out]).stdout)
        return time.perf_counter() - start, report["peak_rss_mib"]

    big_s, big_rss = [], 0.0
    for _ in range(args.repeats):
        s, big_rss = count(big)
        big_s.append(s)
    _, small_rss = count(small)
    t = median(big_s)
    rows.append(("count", f"count a {size_mb:.0f} MB file", f"{size_mb / t:,.0f} MB/s", None,
                 f"{t:.2f} s with process start; peak RSS {big_rss:.1f} MiB vs {small_rss:.1f} MiB "
                 f"for 1 MB (+{big_rss - small_rss:.1f} MiB; libtorch's libraries are most of it)"))
    os.remove(big)

    # --- table ------------------------------------------------------------------------------------
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"median of {args.repeats}; torch {run([sys.executable, '-c', 'import torch; print(torch.__version__)']).stdout.strip()}")
    print()
    print("| group | what | result | ratio | notes |")
    print("|---|---|---|---|---|")
    for group, what, result, ratio, notes in rows:
        r = "" if ratio is None else f"{ratio:.4g}"
        print(f"| {group} | {what} | {result} | {r} | {notes} |")
    print()
    print("ratio: train = time / PyTorch time (below 1 is faster); sample = speed-up over the exact sampler.")


if __name__ == "__main__":
    main()
