#!/usr/bin/env python3
"""Which steps of the training epoch change their bits with the intra-op thread count.

For each thread count, runs the reference's epoch (scripts/reference.py) on names.txt and
compares every intermediate with the 1-thread result: the forward product xenc @ W, the loss,
the gradient (whose product xenc.T @ dlogits sums over all examples) and the weights after a
few epochs. Each count is also run several times in this process, to show whether the bits
move between runs at one count. A diagnostic for docs/parity.md, "What identical means"; nothing
depends on its output.

Usage: python scripts/research/thread_effects.py [--data data/names.txt] [--threads 1,2,3,4]
       [--epochs 10] [--repeats 3]
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference import examples, forward, read_names, train


def one_epoch(xenc, y, W0):
    W = W0.clone().requires_grad_(True)
    logits, _, loss = forward(xenc, y, torch.arange(xenc.size(0)), W, 0.01)
    loss.backward()
    return logits.detach(), loss.detach(), W.grad


def difference(a, b):
    if torch.equal(a, b):
        return "same"
    return f"{(a.double() - b.double()).abs().max().item():.1e}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/names.txt")
    ap.add_argument("--threads", default="1,2,3,4")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    names, vocab = read_names(args.data, ".abcdefghijklmnopqrstuvwxyz")
    X, y = examples(names, {c: i for i, c in enumerate(vocab)}, 2)
    xenc = F.one_hot(X, num_classes=len(vocab)).float()
    W0 = torch.randn((len(vocab), len(vocab)), generator=torch.Generator().manual_seed(42))

    def results(threads):
        torch.set_num_threads(threads)
        W = W0.clone().requires_grad_(True)
        train(xenc, y, W, args.epochs, 50.0, 0.01)
        return (*one_epoch(xenc, y, W0), W.detach())

    counts = [int(t) for t in args.threads.split(",")]
    base = results(1)
    print(f"torch {torch.__version__}, {X.numel()} examples; difference from 1 thread "
          f"(max |a - b|, or 'same' when every bit agrees)")
    print(f"{'threads':>7}  {'run':>3}  {'forward':>8}  {'loss':>8}  {'gradient':>8}  "
          f"{'W after ' + str(args.epochs):>11}")
    for threads in counts:
        for run in range(1, args.repeats + 1):
            cells = [difference(a, b) for a, b in zip(results(threads), base)]
            print(f"{threads:>7}  {run:>3}  {cells[0]:>8}  {cells[1]:>8}  {cells[2]:>8}  "
                  f"{cells[3]:>11}")


if __name__ == "__main__":
    main()
