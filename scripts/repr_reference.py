#!/usr/bin/env python3
"""PyTorch's repr() of random tensors, for the live test of our formatter (src/pyrepr.rs).

Writes the tensors to OUT.safetensors and one JSON document to stdout: for each tensor its
name, whether it is a leaf that requires grad, and repr(); then random floats (their IEEE bits) with
Python's repr(). The tensors vary in shape (0-d to 4-d, some past the 1000-element summary), dtype
(float32, float64, int64, bool) and magnitude, with zeros, -0.0, whole numbers, inf and nan
mixed in, so that each of PyTorch's layouts (fixed, whole, scientific) comes up.
"""
import argparse
import json
import math
import random
import struct
import sys

import torch
from safetensors.torch import save_file


def random_shape(rng):
    kind = rng.random()
    if kind < 0.1:
        return ()
    if kind < 0.4:
        return (rng.randint(1, 40),)
    if kind < 0.75:
        return (rng.randint(1, 12), rng.randint(1, 30))
    if kind < 0.9:  # past 1000 elements: summarized
        return rng.choice([(rng.randint(1001, 3000),), (rng.randint(30, 80), rng.randint(30, 80)),
                           (rng.randint(2, 5), rng.randint(5, 12), rng.randint(100, 200))])
    return tuple(rng.randint(1, 4) for _ in range(rng.randint(3, 4)))


def random_floats(rng, gen, shape, dtype):
    t = torch.randn(shape, generator=gen, dtype=torch.float64)
    t = t * 10.0 ** rng.uniform(-9, 11)
    style = rng.random()
    if style < 0.15:  # whole numbers
        t = t.round()
    elif style < 0.3:  # magnitudes far apart: scientific notation
        t = t * torch.exp(torch.randn(shape, generator=gen, dtype=torch.float64) * 6)
    t = t.to(dtype)
    flat = t.reshape(-1)
    for special in (0.0, -0.0, math.inf, -math.inf, math.nan):
        if flat.numel() and rng.random() < 0.12:
            flat[rng.randrange(flat.numel())] = special
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the safetensors file to write")
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    tensors, cases = {}, []
    for i in range(args.count):
        dtype = [torch.float32, torch.float32, torch.float64, torch.int64, torch.bool][i % 5]
        shape = random_shape(rng)
        if dtype == torch.int64:
            high = 10 ** rng.randint(1, 12)
            t = torch.randint(-high, high, shape, generator=gen)
        elif dtype == torch.bool:
            t = torch.rand(shape, generator=gen) < rng.random()
        else:
            t = random_floats(rng, gen, shape, dtype)
        requires_grad = t.is_floating_point() and rng.random() < 0.2
        name = f"t{i}"
        tensors[name] = t.contiguous()
        cases.append({
            "name": name,
            "requires_grad": requires_grad,
            "repr": repr(t.clone().requires_grad_(requires_grad)),
        })
    save_file(tensors, args.out)

    floats = []
    for _ in range(args.count):
        x = rng.choice([rng.random(), rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30),
                        float(rng.randint(-10**17, 10**17)), rng.random() * 1e-4])
        floats.append({"bits": struct.unpack("<Q", struct.pack("<d", x))[0], "repr": repr(x)})
    json.dump({"torch": torch.__version__, "tensors": cases, "floats": floats}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
