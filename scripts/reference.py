#!/usr/bin/env python3
"""PyTorch reference for bigram: the notebook's pipeline, completed, written plainly.

Runs with PyTorch 2.13.0 and prints one JSON document on stdout. The Rust side (`bigram parity`)
runs the same operations in the same order through tch, so on the CPU every float matches bit
for bit. Floats are printed with Python's repr of the float32 value, which round-trips exactly.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


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


def sample(W, seed, n, vocab, order, max_len):
    torch.manual_seed(seed)
    width = len(vocab)
    out = []
    for _ in range(n):
        context = [0] * (order - 1)
        name = []
        while len(name) < max_len:
            pos = W[context_index(context, width)].exp()
            p = pos / pos.sum()
            ix = torch.multinomial(p, 1, replacement=True).item()
            if ix == 0:
                break
            name.append(vocab[ix])
            context = context[1:] + [ix]
        out.append("".join(name))
    return out


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
            "network_names": sample(W.detach(), args.sample_seed, args.n, vocab, args.order, args.max_len),
            "count_names": sample(W_counts, args.sample_seed, args.n, vocab, args.order, args.max_len),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
