#!/usr/bin/env python3
"""PyTorch reference for bigram: the notebook's pipeline, completed, written plainly.

Runs with PyTorch 2.13.0 and prints one JSON document on stdout. The Rust side (`bigram parity`)
runs the same operations in the same order through tch, so on the CPU every float matches bit
for bit. Floats are printed with Python's repr of the float32 value, which round-trips exactly.
Names are drawn both ways PyTorch has drawn them: torch.multinomial(p, 1) as 2.0 and later do,
and the cumulative draw of earlier versions, which is checked here against the kernel that
torch.multinomial still runs for more than one sample.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# Samples per row in the check of the cumulative sampler against torch.multinomial.
CHECK_DRAWS = 30


def read_names(path, vocab_arg):
    with open(path, encoding="utf-8-sig") as f:  # a BOM is not part of the first name
        names = [line.strip() for line in f.read().splitlines()]
    names = [n for n in names if n]
    if vocab_arg == "auto":
        vocab = "." + "".join(sorted(set("".join(names)) - {"."}))
    else:
        vocab = vocab_arg
    return names, vocab


def examples(names, stoi, order):
    """Context index (previous order-1 characters, '.'-padded) and next-character index."""
    xs, ys = [], []
    width = len(stoi)
    for name in names:
        context = [0] * (order - 1)
        for ch in list(name) + ["."]:
            ix = stoi[ch]
            xs.append(context_index(context, width))
            ys.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(xs), torch.tensor(ys)


def context_index(context, width):
    index = 0
    for ix in context:
        index = index * width + ix
    return index


def canonical_nll(W, counts):
    """Mean NLL of the counted bigrams under logits W: the project's one formula.

    log_softmax in float64 by libtorch, then -sum(c * log p) / sum(c) over the non-empty cells,
    added one cell at a time in row-major order (as bigram adds them), so the sum's rounding
    is the same on both sides. A row of -inf logits has log p = -inf, not NaN.
    """
    logp = W.detach().double().log_softmax(1).reshape(-1).tolist()
    total, n = 0.0, 0
    for c, lp in zip(counts.reshape(-1).tolist(), logp):
        if c > 0:
            total += c * (lp if lp == lp else -math.inf)
            n += c
    return -total / n + 0.0


def forward(xenc, y, rows, W, reg):
    """The notebook's forward pass: the logits, the targets' NLL, and the loss with the L2 term."""
    logits = xenc @ W
    pos = logits.exp()
    probs = pos / pos.sum(dim=1, keepdims=True)
    nll = -probs[rows, y].log().mean()
    return logits, nll, nll + reg * (W**2).mean()


def train(xenc, y, W, epochs, lr, reg):
    losses, nlls = [], []
    rows = torch.arange(xenc.size(0))
    for _ in range(epochs):
        _, nll, loss = forward(xenc, y, rows, W, reg)
        W.grad = None
        loss.backward()
        with torch.no_grad():
            W += -lr * W.grad
        losses.append(loss.item())
        nlls.append(nll.item())
    return losses, nlls


def probabilities(W, row):
    """The sampler's distribution for a context: exp of its logits over their sum, in float32."""
    pos = W[row].exp()
    return pos / pos.sum()


def cumulative_table(p):
    """PyTorch's CPU cumulative table for multinomial, before 2.0 for every draw: a running sum
    in float32, each entry divided by the total in float32, the last bucket set to 1."""
    total = np.float32(0)
    table = []
    for v in p.tolist():
        total = np.float32(total + np.float32(v))
        table.append(total)
    if total > 0:
        table = [np.float32(c / total) for c in table]
    table[-1] = np.float32(1)
    return table


def cumulative_draw(table, gen=None):
    """One draw: a uniform double from the generator (53 bits of one 64-bit number), then a
    binary search for the first bucket whose value is not below it."""
    u = torch.rand((), dtype=torch.float64, generator=gen).item()
    left, right = 0, len(table)
    while right - left > 0:
        mid = left + (right - left) // 2
        if float(table[mid]) < u:
            left = mid + 1
        else:
            right = mid
    return left


def sample(W, seed, n, vocab, order, max_len, cumulative=False):
    """Names drawn from W: with torch.multinomial(p, 1), PyTorch 2.0's way, or with the
    cumulative draw above, the way of PyTorch before 2.0."""
    torch.manual_seed(seed)
    width = len(vocab)
    out = []
    for _ in range(n):
        context = [0] * (order - 1)
        name = []
        while len(name) < max_len:
            p = probabilities(W, context_index(context, width))
            if cumulative:
                ix = cumulative_draw(cumulative_table(p))
            else:
                ix = torch.multinomial(p, 1, replacement=True).item()
            if ix == 0:
                break
            name.append(vocab[ix])
            context = context[1:] + [ix]
        out.append("".join(name))
    return out


def check_cumulative(tables, seed):
    """The plain cumulative draw against PyTorch's own kernel, which torch.multinomial still
    runs for more than one sample: for every row that is a distribution, CHECK_DRAWS draws
    each way, from two generators seeded alike (each draw takes one number from either).
    Returns how many draws were compared and how many differ."""
    kernel_gen = torch.Generator().manual_seed(seed)
    plain_gen = torch.Generator().manual_seed(seed)
    draws = mismatches = 0
    for W in tables:
        for row in range(W.size(0)):
            p = probabilities(W, row)
            if not (torch.isfinite(p).all() and p.sum() > 0):
                continue
            kernel = torch.multinomial(p, CHECK_DRAWS, replacement=True, generator=kernel_gen)
            table = cumulative_table(p)
            plain = [cumulative_draw(table, plain_gen) for _ in range(CHECK_DRAWS)]
            draws += CHECK_DRAWS
            mismatches += sum(a != b for a, b in zip(kernel.tolist(), plain))
    return {"samples_per_call": CHECK_DRAWS, "draws": draws, "mismatches": mismatches}


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/names.txt")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=50.0)
    ap.add_argument("--reg", type=float, default=0.01)
    ap.add_argument("--smoothing", type=float, default=1.0)
    ap.add_argument("--sample-seed", type=int, default=2147483647)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--max-len", type=int, default=50)
    ap.add_argument("--order", type=int, default=2, choices=(2, 3))
    ap.add_argument("--vocab", default=".abcdefghijklmnopqrstuvwxyz")
    ap.add_argument("--threads", type=int, default=0, help="0 keeps PyTorch's default")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    names, vocab = read_names(args.data, args.vocab)
    stoi = {c: i for i, c in enumerate(vocab)}
    width = len(vocab)
    rows = width ** (args.order - 1)
    X, y = examples(names, stoi, args.order)
    xenc = F.one_hot(X, num_classes=rows).float()

    gen = torch.Generator().manual_seed(args.seed)
    W = torch.randn((rows, width), generator=gen, requires_grad=True)
    initial = floats(W)
    start = time.perf_counter()
    losses, nlls = train(xenc, y, W, args.epochs, args.lr, args.reg)
    seconds = time.perf_counter() - start

    counts = torch.bincount(X * width + y, minlength=rows * width).view(rows, width)
    W_counts = (counts + args.smoothing).float().log()
    W_net = W.detach()

    def names(W, cumulative):
        return sample(W, args.sample_seed, args.n, vocab, args.order, args.max_len, cumulative)

    json.dump(
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "vocab": vocab,
            "examples": X.numel(),
            "initial_w": initial,
            "losses": losses,
            "nlls": nlls,
            "final_w": floats(W),
            "final_nll": canonical_nll(W, counts),
            "train_seconds": seconds,
            "count_nll": canonical_nll(W_counts, counts),
            "network_names": names(W_net, False),
            "count_names": names(W_counts, False),
            "network_names_cumulative": names(W_net, True),
            "count_names_cumulative": names(W_counts, True),
            "cumulative_check": check_cumulative([W_net, W_counts], args.sample_seed),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
