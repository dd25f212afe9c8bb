#!/usr/bin/env python3
"""PyTorch reference for `bigram notebook`: every figure of the notebook's cells, computed here.

Each cell In [1]..In [43] is done with the operations the notebook uses, in the same order, and
every value the replay prints is written to one JSON document on stdout. `bigram parity
--notebook` compares it with the Rust replay: on the CPU, with the same libtorch and thread
count, every float must agree bit for bit. Floats are the float32 values widened to Python
floats, which round-trip exactly.

In [40] as written assigns `W.data = -50 * W.grad` instead of stepping; both that and the
intended `W.data += -50 * W.grad` are run from the weights left by In [26].
"""
import argparse
import hashlib
import json
import sys

import torch
import torch.nn.functional as F

SEED = 42
EPOCHS = 100
LR = 50.0
DEMO_LR = 0.01
VOCAB = ".abcdefghijklmnopqrstuvwxyz"


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def corners(t):
    """First and last three rows and columns, as PyTorch abbreviates a large matrix."""
    t = t.detach()
    pick = lambda n: list(range(n)) if n <= 6 else [0, 1, 2, n - 3, n - 2, n - 1]
    return [[float(t[r, c]) for c in pick(t.size(1))] for r in pick(t.size(0))]


def digest(t):
    """sha256 of a float32 tensor's bytes: every element, compactly."""
    return hashlib.sha256(t.detach().contiguous().numpy().tobytes()).hexdigest()


def read_names(path):
    with open(path, encoding="utf-8-sig") as f:
        return [n for n in (line.strip() for line in f.read().splitlines()) if n]


def train(xenc, y, W, assign):
    """In [40]: 100 full-batch epochs; `assign` runs the cell as written. Returns the loss of
    every epoch (the cell returns the last one)."""
    rows = torch.arange(xenc.size(0))
    losses = []
    for _ in range(EPOCHS):
        logits = xenc @ W
        pos = logits.exp()
        probs = pos / pos.sum(dim=1, keepdims=True)
        loss = -probs[rows, y].log().mean()
        W.grad = None
        loss.backward()
        if assign:
            W.data = -LR * W.grad
        else:
            W.data += -LR * W.grad
        losses.append(loss.item())
    return losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/names.txt")
    ap.add_argument("--threads", type=int, default=0, help="0 keeps PyTorch's default")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}

    names = read_names(args.data)  # In [1]
    out["first_names"] = names[:3]
    first = names[0]  # In [2]: the notebook shows "emma", the first name
    out["first_bigrams"] = [[a, b] for a, b in zip("." + first, first + ".")]
    stoi = {c: i for i, c in enumerate(VOCAB)}  # In [4], In [5]
    out["vocab"] = VOCAB
    xs, ys = [], []  # In [6]
    for name in names:
        for a, b in zip("." + name, name + "."):
            xs.append(stoi[a])
            ys.append(stoi[b])
    out["examples"] = len(xs)
    out["x_head"], out["y_head"] = xs[:10], ys[:10]
    X, y = torch.tensor(xs), torch.tensor(ys)

    c_enc = torch.zeros(27)  # In [7]
    c_enc[stoi["c"]] = 1
    out["c_enc"] = floats(c_enc)
    X_enc = F.one_hot(X, num_classes=27)  # In [8]
    out["x_enc_head"] = X_enc[:5].tolist()
    X_enc = X_enc.float()  # In [9]
    out["x_enc_dtype"] = str(X_enc.dtype)

    gen = torch.Generator().manual_seed(SEED)  # In [10], In [11]
    neuron = torch.randn((27, 1), generator=gen)
    out["neuron"] = floats(neuron)
    out["c_dot_neuron"] = floats(c_enc @ neuron)[0]

    gen = torch.Generator().manual_seed(SEED)  # In [12], In [13]
    W = torch.randn((27, 27), generator=gen, requires_grad=True)
    out["c_logits"] = floats(c_enc @ W)

    logits = X_enc @ W  # In [15]..In [18]
    pos_values = logits.exp()
    probs = pos_values / pos_values.sum(dim=1, keepdims=True)
    row_sums = probs.sum(dim=1, keepdims=True)
    out["logits"], out["exp"], out["probs"] = corners(logits), corners(pos_values), corners(probs)
    out["logits_sha256"], out["exp_sha256"] = digest(logits), digest(pos_values)
    out["probs_sha256"], out["row_sums_sha256"] = digest(probs), digest(row_sums)
    out["row_sums_head_tail"] = floats(row_sums[:3]) + floats(row_sums[-3:])

    c_pos = (c_enc @ W).exp()  # In [19]..In [21]
    c_probs = c_pos / c_pos.sum()
    out["c_probs"] = floats(c_probs)
    original_prediction = c_probs[stoi["a"]]
    out["p_a_after_c"] = original_prediction.item()
    loss = -original_prediction.log().mean()
    out["loss"] = loss.item()

    W.grad = None  # In [22]..In [25]
    loss.backward()
    out["grad_shape"] = list(W.grad.size())
    out["grad"] = floats(W.grad)

    W.data += -DEMO_LR * W.grad  # In [26], In [27]
    c_pos = (c_enc @ W).exp()
    out["p_a_after_c_after_step"] = (c_pos / c_pos.sum())[stoi["a"]].item()

    start = W.detach().clone()  # In [40], In [43]
    for key, assign in (("as_written", True), ("gradient_descent", False)):
        losses = train(X_enc, y, start.clone().requires_grad_(), assign)
        out["losses_" + key] = losses
        out["loss_" + key] = losses[-1]

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
