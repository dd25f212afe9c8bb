#!/usr/bin/env python3
"""Names drawn by a real PyTorch 2.6.0, kept as the fixture of `bigram sample --sampler torch-2.0`.

The tests cannot install PyTorch 2.6 on every run, so this script is run once by hand, in a
venv of its own, and its output is committed:

    python3 -m venv /root/.cache/bigram/torch-2.6.0-venv
    /root/.cache/bigram/torch-2.6.0-venv/bin/pip install torch==2.6.0 numpy safetensors
    /root/.cache/bigram/torch-2.6.0-venv/bin/python scripts/research/torch26_names.py \\
        --bigram target/release/bigram --data data/names.txt --out tests/fixtures/torch-2.6.0

It asks `bigram count` and `bigram train` for the checkpoints it samples (written into --out
and committed beside the names, so the test never depends on training giving the same bits
again), reads their W with safetensors, and draws with `torch.multinomial(p, 1, True, g)`
the way `bigram sample` walks a model: p = exp(row) / sum after temperature and top-k, the
context advanced by each drawn character, a name cut at 50 characters. It also draws the
lecture's own count model, P = (N + 1) / row sums, with the lecture's loop, and records the
first exponentials of a seeded generator, the values the Rust sampler rebuilds.

With --check, any other PyTorch draws the fixture's cases from its checkpoints and says how
many agree with 2.6.0's, or with `bigram sample --sampler SAMPLER` given --against SAMPLER
(how the eras table in docs/sampling.md was extended).
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import torch
from safetensors import safe_open

LECTURE_SEED = 2147483647
MAX_LEN = 50

# The checkpoints: file name and the bigram command (after the binary) that makes it.
MODELS = {
    "counts-s1.safetensors": ["count", "--smoothing", "1"],
    "counts-s0.safetensors": ["count", "--smoothing", "0"],
    "counts-s0.5.safetensors": ["count", "--smoothing", "0.5"],
    "counts-s10.safetensors": ["count", "--smoothing", "10"],
    "trigram-s1.safetensors": ["count", "--smoothing", "1", "--order", "3"],
    "network.safetensors": [
        "train", "--seed", "2147483647", "--epochs", "30", "--threads", "1",
    ],
}

# (model, seed, n, prefix, temperature, top_k). 2**32 + 42 checks that only the seed's low
# 32 bits count, as in PyTorch's generator; -7 that a negative seed is taken as its two's
# complement, as `Generator.manual_seed` takes it.
CASES = [
    ("counts-s1.safetensors", 0, 60, "", 1.0, None),
    ("counts-s1.safetensors", 42, 40, "", 1.0, None),
    ("counts-s1.safetensors", 2**32 + 42, 10, "", 1.0, None),
    ("counts-s1.safetensors", -7, 20, "", 1.0, None),
    ("counts-s0.safetensors", 123, 60, "", 1.0, None),
    ("counts-s0.5.safetensors", 7, 60, "", 1.0, None),
    ("counts-s10.safetensors", LECTURE_SEED, 60, "", 1.0, None),
    ("trigram-s1.safetensors", LECTURE_SEED, 60, "", 1.0, None),
    ("trigram-s1.safetensors", 5, 40, "", 1.0, None),
    ("network.safetensors", LECTURE_SEED, 60, "", 1.0, None),
    ("network.safetensors", 31337, 60, "", 1.0, None),
    ("counts-s1.safetensors", 3, 30, "", 0.7, None),
    ("network.safetensors", 4, 30, "", 1.0, 5),
    ("counts-s0.5.safetensors", 9, 30, "", 1.5, 10),
    ("counts-s1.safetensors", 11, 30, "ka", 1.0, None),
    ("trigram-s1.safetensors", 12, 20, "mar", 1.0, None),
    ("network.safetensors", 13, 20, "j", 0.8, 8),
]


def make_models(bigram, data, out):
    """Run bigram for every checkpoint that is not there yet; return the commands."""
    commands = {}
    for name, args in MODELS.items():
        path = os.path.join(out, name)
        command = [bigram, *args, "--data", data, "--out", path]
        commands[name] = " ".join(["bigram", *args, "--data", "data/names.txt", "--out", name])
        if not os.path.exists(path):
            subprocess.run(command, check=True)
    return commands


def load(path):
    """W, the vocabulary and the order of a bigram checkpoint."""
    with safe_open(path, "pt") as f:
        meta = f.metadata()
        return f.get_tensor("W"), meta["vocab"], int(meta["order"])


def probabilities(row, temperature, top_k):
    """p for one row of logits, shaped as `bigram sample` shapes it when asked to."""
    if temperature != 1.0 or (top_k is not None and top_k < row.numel()):
        row = (row - row.max()) / torch.tensor(temperature, dtype=torch.float32)
        if top_k is not None and top_k < row.numel():
            threshold = row.sort(descending=True).values[top_k - 1]
            row = torch.where(row < threshold, torch.tensor(float("-inf")), row)
    weights = row.exp()
    return weights / weights.sum()


def sample(path, seed, n, prefix, temperature, top_k):
    """n names from a checkpoint, drawn as `bigram sample` walks it."""
    w, vocab, order = load(path)
    width, rows = len(vocab), w.shape[0]
    advance = lambda context, ix: ix if rows == width else (context * width + ix) % rows
    g = torch.Generator().manual_seed(seed)
    names = []
    for _ in range(n):
        context, name = 0, []
        for ch in prefix:
            context = advance(context, vocab.index(ch))
            name.append(ch)
        while len(name) < MAX_LEN:
            p = probabilities(w[context], temperature, top_k)
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            context = advance(context, ix)
            name.append(vocab[ix])
        names.append("".join(name))
    return names


def lecture_names(data, n):
    """The lecture's count model and its sampling loop, as the notebook writes them."""
    words = open(data).read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    N = torch.zeros((27, 27), dtype=torch.int32)
    for word in words:
        seq = ["."] + list(word) + ["."]
        for a, b in zip(seq, seq[1:]):
            N[stoi[a], stoi[b]] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    g = torch.Generator().manual_seed(LECTURE_SEED)
    names = []
    for _ in range(n):
        out, ix = [], 0
        while True:
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            out.append(itos[ix])
        names.append("".join(out))
    return names


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def bigram_names(bigram, out, case, sampler):
    """What `bigram sample --sampler SAMPLER` draws for a fixture case."""
    command = [bigram, "sample", "--sampler", sampler, "--model", os.path.join(out, case["model"])]
    command += ["--seed", str(case["seed"]), "-n", str(case["n"]), "--prefix", case["prefix"]]
    command += ["--temperature", str(case["temperature"])]
    if case["top_k"] is not None:
        command += ["--top-k", str(case["top_k"])]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()


def check(out, data, bigram, sampler):
    """Draw the fixture's cases with this PyTorch; print how many agree with the fixture, or
    with one of bigram's samplers."""
    with open(os.path.join(out, "names.json")) as f:
        fixture = json.load(f)
    lecture = lecture_names(data, len(fixture["lecture"]["names"]))
    print(f"PyTorch {torch.__version__}: lecture {lecture[:5]}")
    # bigram's side of the lecture: `bigram count --smoothing 1`, sampled at the lecture's seed.
    as_case = {"model": "counts-s1.safetensors", "seed": LECTURE_SEED, "n": len(lecture)}
    as_case.update(prefix="", temperature=1.0, top_k=None)
    theirs = bigram_names(bigram, out, as_case, sampler) if sampler else fixture["lecture"]["names"]
    same = int(lecture == theirs)
    for case in fixture["cases"]:
        keys = ("seed", "n", "prefix", "temperature", "top_k")
        names = sample(os.path.join(out, case["model"]), *(case[k] for k in keys))
        same += names == (bigram_names(bigram, out, case, sampler) if sampler else case["names"])
    versus = f"bigram sample --sampler {sampler}" if sampler else f"PyTorch {fixture['torch']}"
    print(f"{same} of {len(fixture['cases']) + 1} cases drawn as {versus} draws them")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bigram", required=True, help="the bigram binary")
    parser.add_argument("--data", required=True, help="names.txt")
    parser.add_argument("--out", required=True, help="folder for the checkpoints and names.json")
    parser.add_argument("--check", action="store_true", help="compare with --out's names.json")
    parser.add_argument("--against", metavar="SAMPLER", help="with --check: compare with bigram")
    args = parser.parse_args()
    if args.check:
        return check(args.out, args.data, args.bigram, args.against)
    if not torch.__version__.startswith("2.6.0"):
        sys.exit(f"this fixture must come from PyTorch 2.6.0, not {torch.__version__}")
    os.makedirs(args.out, exist_ok=True)
    commands = make_models(args.bigram, args.data, args.out)
    g = torch.Generator().manual_seed(LECTURE_SEED)
    fixture = {
        "made_by": "scripts/research/torch26_names.py --bigram target/release/bigram "
        "--data data/names.txt --out tests/fixtures/torch-2.6.0",
        "torch": torch.__version__,
        "mkl": torch.backends.mkl.is_available(),
        "machine": platform.machine(),
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "models": commands,
        "lecture": {"seed": LECTURE_SEED, "names": lecture_names(args.data, 20)},
        "exponentials": {
            "seed": LECTURE_SEED,
            "values": torch.empty(27).exponential_(generator=g).tolist(),
        },
        "cases": [
            {
                "model": model,
                "seed": seed,
                "n": n,
                "prefix": prefix,
                "temperature": temperature,
                "top_k": top_k,
                "names": sample(os.path.join(args.out, model), seed, n, prefix, temperature, top_k),
            }
            for model, seed, n, prefix, temperature, top_k in CASES
        ],
    }
    with open(os.path.join(args.out, "names.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    total = sum(len(c["names"]) for c in fixture["cases"]) + len(fixture["lecture"]["names"])
    print(f"{total} names from PyTorch {torch.__version__} in {args.out}/names.json")


if __name__ == "__main__":
    main()
