#!/usr/bin/env python3
"""Run the notebook's own code cells as Jupyter would, and say what each one shows.

Reads the notebook's text (the seed file: each code cell follows a line `In [n]:`, its output
after it), runs the code cells in order in one namespace with PyTorch, and captures for each
what it prints and the repr of its last expression (Jupyter's Out[n]). Writes one JSON list to
stdout: for each cell that shows something, its number, the captured text, and the values in
it that `bigram notebook` must show verbatim (every tensor repr, list, dict, percentage and
`letter: number` line, and the Out repr).

Where a cell's code ends is not marked in the text: its first block (up to a blank line) is
code, and each next block too while it is indented (the rest of a definition), or compiles
and holds only statements a cell is made of (assignments, definitions, imports, loops,
comments, print calls), not a bare value as an output is.
"""
import argparse
import ast
import contextlib
import io
import json
import os
import re
import sys

import torch


def code_cells(text):
    """(number, code) of each code cell, in the order of the text."""
    parts = re.split(r"^In \[(\d+)\]:\n", text, flags=re.M)
    cells = []
    for number, body in zip(parts[1::2], parts[2::2]):
        blocks = re.split(r"\n\s*\n", body)
        code = blocks[0]
        for block in blocks[1:]:
            # An indented block goes on the code above it (the body of In [40]'s def).
            if not (block[:1].isspace() or is_code(block)):
                break
            code += "\n\n" + block
        cells.append((int(number), code))
    return cells


def is_code(block):
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return False
    if block.lstrip().startswith("#"):
        return True
    for node in tree.body:
        if isinstance(node, ast.Expr):
            call = node.value
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print"):
                return False
    return bool(tree.body)


def run(code, namespace):
    """exec the cell; the last statement, when an expression, is Out (None shows nothing)."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, "<cell>", "exec"), namespace)
        out = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None
    return printed.getvalue(), None if out is None else repr(out)


def balanced(text, start, open_, close):
    depth = 0
    for i in range(start, len(text)):
        depth += {open_: 1, close: -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    return len(text)


def values(printed):
    """The tensor reprs, lists, dicts, percentages and `x: 1.2345` lines in printed text."""
    found, i = [], 0
    while i < len(printed):
        if printed.startswith("tensor(", i):
            end = balanced(printed, i + len("tensor"), "(", ")")
        elif printed[i] in "[{":
            end = balanced(printed, i, printed[i], "]" if printed[i] == "[" else "}")
        else:
            m = re.compile(r"\d+\.\d+%").match(printed, i)
            end = m.end() if m else None
        if end:
            found.append(printed[i:end])
            i = end
        else:
            i += 1
    found += re.findall(r"^.: -?\d+\.\d{4}$", printed, flags=re.M)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", help="the notebook as text (the seed file)")
    ap.add_argument("--data", required=True, help="the names file; In [1] opens names.txt")
    ap.add_argument("--threads", type=int, required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.notebook, encoding="utf-8") as f:
        cells = code_cells(f.read())
    workdir = os.path.join(os.path.dirname(os.path.abspath(args.data)))
    if os.path.basename(args.data) != "names.txt":
        sys.exit("--data must be a file named names.txt, which In [1] opens")
    os.chdir(workdir)
    namespace, shown = {}, []
    for number, code in cells:
        printed, out = run(code, namespace)
        expected = values(printed) + ([out] if out is not None else [])
        if expected:
            shown.append({"cell": number, "printed": printed, "out": out, "values": expected})
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "cells": shown},
              sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
