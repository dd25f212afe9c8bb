#!/usr/bin/env python3
"""PyTorch reference for `bigram notebook`: every figure of the notebook's cells, computed here.

Each cell In [1]..In [43] is done with the operations the notebook uses, in the same order, and
every value the replay prints is written to one JSON document on stdout. `bigram parity
--notebook` compares it with the Rust replay: on the CPU, with the same libtorch and thread
count, every float must agree bit for bit. Floats are the float32 values widened to Python
floats, which round-trip exactly.

In [40] as written assigns `W.data = -50 * W.grad` instead of stepping; both that and the
intended `W.data += -50 * W.grad` are run from the weights left by In [26]. In [44] and In [45]
finish the notebook as the lecture does (smoothing, then 5 names); they are not in it.

"shown" lists every value the cells show, in order, as [cell, text]: the repr of a cell's last
expression, and each value its prints hold, as PyTorch and Python write them.
"""
import argparse
import hashlib
import json
import math
import sys

import torch
import torch.nn.functional as F

SEED = 42
EPOCHS = 100
LR = 50.0
DEMO_LR = 0.01
REG = 0.01
SAMPLE_SEED = 2147483647
NAMES = 5
MAX_LEN = 50
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

    shown = []
    show = lambda cell, value: shown.append([cell, value if isinstance(value, str) else repr(value)])
    names = read_names(args.data)  # In [1]
    out["first_names"] = names[:3]
    show(1, names[:3])
    out["first_bigrams"] = [[a, b] for a, b in zip(".emma", "emma.")]  # In [2], as written
    show(2, list(zip(".emma", "emma.")))
    stoi = {c: i for i, c in enumerate(VOCAB)}  # In [4], In [5]
    itos = {i: c for c, i in stoi.items()}
    show(4, stoi)
    show(5, itos)
    out["vocab"] = VOCAB
    xs, ys = [], []  # In [6]
    for name in names:
        for a, b in zip("." + name, name + "."):
            xs.append(stoi[a])
            ys.append(stoi[b])
    out["examples"] = len(xs)
    out["x_head"], out["y_head"] = xs[:10], ys[:10]
    show(6, str(len(xs)))
    show(6, xs[:10])
    show(6, ys[:10])
    X, y = torch.tensor(xs), torch.tensor(ys)

    c_enc = torch.zeros(27)  # In [7]
    c_enc[stoi["c"]] = 1
    out["c_enc"] = floats(c_enc)
    show(7, str(stoi["c"]))
    show(7, c_enc)
    X_enc = F.one_hot(X, num_classes=27)  # In [8]
    out["x_enc_head"] = X_enc[:5].tolist()
    show(8, X_enc[:5])
    X_enc = X_enc.float()  # In [9]
    out["x_enc_dtype"] = str(X_enc.dtype)
    show(9, X_enc[0])

    gen = torch.Generator().manual_seed(SEED)  # In [10], In [11]
    neuron = torch.randn((27, 1), generator=gen)
    out["neuron"] = floats(neuron)
    out["c_dot_neuron"] = floats(c_enc @ neuron)[0]
    show(10, neuron)
    show(11, c_enc @ neuron)

    gen = torch.Generator().manual_seed(SEED)  # In [12], In [13]
    W = torch.randn((27, 27), generator=gen, requires_grad=True)
    c_output = c_enc @ W
    out["c_logits"] = floats(c_output)
    show(13, c_output)
    for letter, logit in zip(stoi.keys(), c_output):  # In [14]
        show(14, f"{logit:.4f}")

    logits = X_enc @ W  # In [15]..In [18]
    pos_values = logits.exp()
    probs = pos_values / pos_values.sum(dim=1, keepdims=True)
    row_sums = probs.sum(dim=1, keepdims=True)
    out["logits"], out["exp"], out["probs"] = corners(logits), corners(pos_values), corners(probs)
    out["logits_sha256"], out["exp_sha256"] = digest(logits), digest(pos_values)
    out["probs_sha256"], out["row_sums_sha256"] = digest(probs), digest(row_sums)
    out["row_sums_head_tail"] = floats(row_sums[:3]) + floats(row_sums[-3:])
    for cell, t in ((15, logits), (16, pos_values), (17, probs), (18, row_sums)):
        show(cell, t)

    c_pos = (c_enc @ W).exp()  # In [19]..In [21]
    c_probs = c_pos / c_pos.sum()
    out["c_probs"] = floats(c_probs)
    show(19, c_probs)
    original_prediction = c_probs[stoi["a"]]
    out["p_a_after_c"] = original_prediction.item()
    show(20, f"{original_prediction * 100:.2f}%")
    loss = -original_prediction.log().mean()
    out["loss"] = loss.item()
    show(21, loss)

    W.grad = None  # In [22]..In [25]
    loss.backward()
    out["grad_shape"] = list(W.grad.size())
    out["grad"] = floats(W.grad)
    show(23, W.grad.size())
    show(24, W.grad)
    show(25, W.grad[3])

    W.data += -DEMO_LR * W.grad  # In [26], In [27]
    c_pos = (c_enc @ W).exp()
    new_prediction = (c_pos / c_pos.sum())[stoi["a"]]
    out["p_a_after_c_after_step"] = new_prediction.item()
    show(27, f"{original_prediction * 100:.2f}%")
    show(27, f"{new_prediction * 100:.2f}%")

    start = W.detach().clone()  # In [40], In [43]
    for key, assign in (("as_written", True), ("gradient_descent", False)):
        losses = train(X_enc, y, start.clone().requires_grad_(), assign)
        out["losses_" + key] = losses
        out["loss_" + key] = losses[-1]
    show(43, out["loss_as_written"])

    # In [44] (ours): smoothing as the lecture does it.
    gen = torch.Generator().manual_seed(SEED)
    W = torch.randn((27, 27), generator=gen, requires_grad=True)
    rows = torch.arange(X_enc.size(0))
    losses = []
    for _ in range(EPOCHS):
        logits = X_enc @ W
        counts = logits.exp()
        probs = counts / counts.sum(dim=1, keepdims=True)
        loss = -probs[rows, y].log().mean() + REG * (W**2).mean()
        W.grad = None
        loss.backward()
        W.data += -LR * W.grad
        losses.append(loss.item())
    out["continuation_losses"] = losses
    show(44, losses[-1])

    # In [45] (ours): 5 names, one character at a time.
    g = torch.Generator().manual_seed(SAMPLE_SEED)
    drawn = []
    finite = all(math.isfinite(loss) for loss in losses)  # none from diverged weights
    for _ in range(NAMES if finite else 0):
        name, ix = "", 0
        while len(name) < MAX_LEN:
            xenc = F.one_hot(torch.tensor([ix]), num_classes=27).float()
            counts = (xenc @ W).exp()
            p = counts / counts.sum(dim=1, keepdims=True)
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            name += itos[ix]
        show(45, name)
        drawn.append(name)
    out["continuation_names"] = drawn
    out["shown"] = shown

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
