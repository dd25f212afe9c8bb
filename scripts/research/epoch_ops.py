#!/usr/bin/env python3
"""The operators (and, on CUDA, the kernels) one training epoch runs, by how the gradient is taken.

Three ways to get W's gradient each epoch, all with the reference's forward and update
(scripts/reference.py): `W.grad = None` then backward (the reference and the notebook);
zeroing `W.grad` then backward (what bigram did before: it accumulates into the zeros); and
`torch.autograd.grad` (what bigram does now through tch's `run_backward`). Counts come from
torch.profiler over a few epochs after a warm-up; a GPU epoch is bound by its launches, so a
difference in kernels is a difference in time there. A diagnostic for issue 15; nothing
depends on its output. The profiler writes lines of its own on stderr.

Usage: python scripts/research/epoch_ops.py [--data data/names.txt] [--device cpu|cuda] [--epochs 5]
"""
import argparse
import os
import sys
from collections import Counter

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference import examples, forward, read_names


def gradient_after_none(loss, W):
    W.grad = None
    loss.backward()
    return W.grad


def gradient_after_zero(loss, W):
    if W.grad is not None:
        W.grad.zero_()
    loss.backward()
    return W.grad


def gradient_by_grad(loss, W):
    return torch.autograd.grad(loss, W)[0]


WAYS = {
    "W.grad = None; backward": gradient_after_none,
    "W.grad.zero_(); backward": gradient_after_zero,
    "autograd.grad": gradient_by_grad,
}


def epoch(xenc, y, rows, W, gradient):
    _, _, loss = forward(xenc, y, rows, W, 0.01)
    grad = gradient(loss, W)
    with torch.no_grad():
        W += -50.0 * grad


def is_called_by_an_op(event):
    """Top-level operators only: an operator another one calls is part of that one."""
    parent = event.cpu_parent
    return parent is not None and parent.name.startswith("aten::")


def count(xenc, y, rows, W0, gradient, epochs, device):
    W = W0.clone().requires_grad_(True)
    epoch(xenc, y, rows, W, gradient)  # warm-up: a first W.grad, caches, CUDA handles
    if device == "cuda":
        torch.cuda.synchronize()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(epochs):
            epoch(xenc, y, rows, W, gradient)
        if device == "cuda":
            torch.cuda.synchronize()
    ops, kernels = Counter(), 0
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            kernels += not event.name.startswith(("Memcpy", "Memset"))  # launches only
        elif event.name.startswith("aten::") and not is_called_by_an_op(event):
            ops[event.name] += 1
    return ops, kernels / epochs, W.detach()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/names.txt")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()

    names, vocab = read_names(args.data, ".abcdefghijklmnopqrstuvwxyz")
    X, y = examples(names, {c: i for i, c in enumerate(vocab)}, 2)
    xenc = F.one_hot(X, num_classes=len(vocab)).float().to(args.device)
    y, rows = y.to(args.device), torch.arange(X.numel(), device=args.device)
    W0 = torch.randn((len(vocab), len(vocab)), generator=torch.Generator().manual_seed(42))
    W0 = W0.to(args.device)

    results = {name: count(xenc, y, rows, W0, way, args.epochs, args.device)
               for name, way in WAYS.items()}
    base_ops, _, base_w = results["W.grad = None; backward"]
    print(f"torch {torch.__version__} on {args.device}, per epoch, over {args.epochs} epochs")
    for name, (ops, kernels, W) in results.items():
        total = sum(ops.values()) / args.epochs
        extra = ops - base_ops
        fewer = base_ops - ops
        line = f"{name:<26} {total:5.1f} top-level ops"
        if args.device == "cuda":
            line += f", {kernels:5.1f} CUDA kernels"
        line += f"; W {'same bits' if torch.equal(W, base_w) else 'differs'} as W.grad = None"
        print(line)
        for op, n in sorted(extra.items()):
            print(f"{'':<26}   + {op} ×{n / args.epochs:g}")
        for op, n in sorted(fewer.items()):
            print(f"{'':<26}   - {op} ×{n / args.epochs:g}")


if __name__ == "__main__":
    main()
