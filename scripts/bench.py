#!/usr/bin/env python3
"""Time bigram's training methods, samplers and counting against PyTorch and `wc -l`.

Every figure is measured in this run on this machine; each row has its ratio to the baseline
row of its group. Training times are measured inside each process (data loading and, on CUDA,
warm-up apart); sampling and counting are wall times of the whole command, process start
included.
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
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {done.stderr.decode()}")
    return time.perf_counter() - start


def torch_cuda_epoch_seconds(data, epochs, device):
    """PyTorch's eager one-hot loop on CUDA: one warm-up epoch, then `epochs` timed with one
    synchronisation at the end (the loss stays on the device)."""
    import torch
    import torch.nn.functional as F

    names = [n.strip() for n in open(data).read().splitlines() if n.strip()]
    stoi = {c: i for i, c in enumerate(".abcdefghijklmnopqrstuvwxyz")}
    xs, ys = [], []
    for name in names:
        for a, b in zip("." + name, name + "."):
            xs.append(stoi[a])
            ys.append(stoi[b])
    X, y = torch.tensor(xs, device=device), torch.tensor(ys, device=device)
    xenc = F.one_hot(X, 27).float()
    rows = torch.arange(len(ys), device=device)
    W = torch.randn((27, 27), generator=torch.Generator().manual_seed(42)).to(device).requires_grad_()

    def epoch(W):
        probs = (xenc @ W).exp()
        probs = probs / probs.sum(1, keepdims=True)
        loss = -probs[rows, y].log().mean() + 0.01 * (W**2).mean()
        W.grad = None
        loss.backward()
        with torch.no_grad():
            W += -50 * W.grad
        return loss

    epoch(W.detach().clone().requires_grad_())
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(epochs):
        loss = epoch(W)
    loss.item()
    return time.perf_counter() - start


def train_rows(args, tmp):
    rows = []
    if args.device == "cpu":
        ref = os.path.join(HERE, "reference.py")
        times = []
        for _ in range(args.repeats):
            out = json.loads(run([sys.executable, ref, "--data", args.data, "--epochs", str(args.epochs), "-n", "1"]).stdout)
            times.append(out["train_seconds"])
            args.torch_version = out["torch"]
        base = statistics.median(times)
        rows.append(("train", f"PyTorch one-hot loop, {args.epochs} epochs", f"{base:.4f} s", 1.0, "baseline"))
    else:
        base = statistics.median(torch_cuda_epoch_seconds(args.data, args.epochs, args.device) for _ in range(args.repeats))
        rows.append(("train", f"PyTorch eager one-hot loop on {args.device}, {args.epochs} epochs", f"{base:.4f} s", 1.0,
                     f"baseline; {1000 * base / args.epochs:.3f} ms/epoch, warm-up apart"))
    for method in ("onehot", "index", "counts"):
        times, loads, warmups = [], [], []
        for _ in range(args.repeats):
            out = run([args.bigram, "train", "--json", "--method", method, "--epochs", str(args.epochs),
                       "--device", args.device, "--data", args.data, "--out", os.path.join(tmp, "m.safetensors")])
            report = json.loads(out.stdout)
            times.append(report["seconds"])
            loads.append(report["load_seconds"])
            warmups.append(report.get("warmup_seconds") or 0.0)
        t = statistics.median(times)
        speed = f"{base / t:,.1f}x faster" if t <= base else f"{t / base:,.2f}x slower"
        note = f"{speed}; {1000 * t / args.epochs:.3f} ms/epoch; data loading {statistics.median(loads):.3f} s"
        if args.device != "cpu" and method != "counts":
            note += f"; warm-up {statistics.median(warmups):.3f} s apart"
        rows.append(("train", f"bigram --method {method}" + (" (CPU)" if method == "counts" and args.device != "cpu" else ""),
                     f"{t:.4f} s", t / base, note))
    return rows


def sample_rows(args, tmp):
    model = os.path.join(tmp, "m.safetensors")
    run([args.bigram, "train", "--method", "counts", "--data", args.data, "--out", model])
    exact_s = wall_seconds([args.bigram, "sample", "--model", model, "-n", str(args.names)])
    fast_s = wall_seconds([args.bigram, "sample", "--fast", "--model", model, "-n", str(args.names)])
    many = 10 * args.names
    many_s = wall_seconds([args.bigram, "sample", "--fast", "--model", model, "-n", str(many)])
    return [
        ("sample", f"exact sampler, {args.names:,} names", f"{args.names / exact_s:,.0f} names/s", 1.0, f"{exact_s:.2f} s"),
        ("sample", f"fast sampler, {args.names:,} names", f"{args.names / fast_s:,.0f} names/s", exact_s / fast_s,
         f"{fast_s:.3f} s, process start included"),
        ("sample", f"fast sampler, {many:,} names", f"{many / many_s:,.0f} names/s", (exact_s / args.names) / (many_s / many),
         f"{many_s:.3f} s to /dev/null"),
    ]


def count_rows(args, tmp):
    with open(args.data, "rb") as f:
        block = f.read()
    if not block.endswith(b"\n"):
        block += b"\n"
    big, small = os.path.join(tmp, "big.txt"), os.path.join(tmp, "small.txt")
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

    def count(path, *more):
        start = time.perf_counter()
        report = json.loads(run([args.bigram, "count", "--json", "--data", path, "--out", out, *more]).stdout)
        return time.perf_counter() - start, report["peak_rss_mib"]

    # Alternated in each repeat, so that a busy moment of a shared machine slows all three:
    # `wc -l`, the 500 MB count, and a 2-line count (process start, libtorch's set-up, writing
    # a checkpoint: what counting time leaves out).
    two = os.path.join(tmp, "two.txt")
    with open(two, "w") as f:
        f.write("emma\nava\n")
    wcs, times, starts, shards, rss = [], [], [], [], 0.0
    for _ in range(args.repeats):
        wcs.append(wall_seconds(["wc", "-l", big]))
        seconds, rss = count(big)
        times.append(seconds)
        starts.append(count(two)[0])
        shards.append(count(big, "--shard", "1/4")[0])
    _, small_rss = count(small)
    wc, t, t0, t4 = (statistics.median(x) for x in (wcs, times, starts, shards))
    counting = statistics.median(a - b for a, b in zip(times, starts))
    os.remove(big)
    cores = os.cpu_count()
    return [
        ("count", f"`wc -l` on a {size_mb:.0f} MB file", f"{size_mb / wc:,.0f} MB/s", 1.0, f"baseline; {wc:.3f} s"),
        ("count", f"bigram count, {size_mb:.0f} MB, {cores} cores: whole process", f"{size_mb / t:,.0f} MB/s", t / wc,
         f"{t:.3f} s with process start and sha256; peak RSS {rss:.1f} MiB vs {small_rss:.1f} MiB for 1 MB "
         f"(+{rss - small_rss:.1f} MiB; libtorch's libraries are most of it)"),
        ("count", f"bigram count, {size_mb:.0f} MB, {cores} cores: counting", f"{size_mb / counting:,.0f} MB/s",
         counting / wc, f"{counting:.3f} s: the whole process less a 2-line count's {t0:.3f} s (start, set-up, "
         "writing the checkpoint), in the same repeat; sha256 included"),
        ("count", f"bigram count --shard 1/4 of the {size_mb:.0f} MB file", f"{size_mb / 4 / t4:,.0f} MB/s of its shard",
         t4 / wc, f"{t4:.3f} s: counts a quarter, but reads the whole file for the whole file's sha256"),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bigram", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda: training rows on the GPU")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--names", type=int, default=100_000)
    ap.add_argument("--count-mb", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="one repeat, a 50 MB count")
    ap.add_argument("--tiny", action="store_true", help="seconds, not minutes: checks the script runs")
    ap.add_argument("--count-only", action="store_true", help="only the counting rows (no PyTorch)")
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.count_mb = 1, 50
    if args.tiny:
        args.repeats, args.epochs, args.names, args.count_mb = 1, 2, 200, 2
    # Its inputs and outputs go with it, whether it ends or fails.
    with tempfile.TemporaryDirectory(prefix="bigram-bench-") as tmp:
        if args.count_only:
            rows = count_rows(args, tmp)
            args.torch_version = "not used"
        else:
            rows = train_rows(args, tmp)
        if args.device == "cpu" and not args.count_only:
            rows += sample_rows(args, tmp) + count_rows(args, tmp)

    # The reference said its version; on CUDA, torch is imported here already.
    torch_version = getattr(args, "torch_version", None) or sys.modules["torch"].__version__
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"median of {args.repeats}; torch {torch_version}; device {args.device}")
    print()
    print("| group | what | result | ratio | notes |")
    print("|---|---|---|---|---|")
    for group, what, result, ratio, notes in rows:
        r = "" if ratio is None else f"{ratio:.4g}"
        print(f"| {group} | {what} | {result} | {r} | {notes} |")
    print()
    print("ratio: train = time / baseline time (below 1 is faster); sample = speed-up over the exact "
          "sampler; count = time / `wc -l` time on the same file (1 would be as fast as wc).")


if __name__ == "__main__":
    main()
