#!/usr/bin/env python3
"""Import circles among the Rust files of src/: exit 1 and name them if any file imports one
that imports it back, directly or through others.

Each file is one node (its inline test module included, where `super` means the file). A path
(`crate::a::b`, `super::x`, `bigram::y` from the binary, a child module's name) is resolved to
the file that defines the item, following `pub use` re-exports, so a parent module that only
re-exports its children is not a step in anyone's circle.
Usage: scripts/import_circles.py [SRC_DIR] [--graph]
"""
import os
import re
import sys

TEST_MOD = re.compile(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{')


def code_only(src):
    """`src` with comments removed and string and char literals emptied."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            i = src.find('\n', i)
            i = n if i < 0 else i
        elif src.startswith('/*', i):
            depth, i = 1, i + 2
            while i < n and depth:
                depth += src.startswith('/*', i) - src.startswith('*/', i)
                i += 2 if src.startswith(('/*', '*/'), i) else 1
        elif re.match(r'(?<![\w])b?r#*"', src[i:i + 12]) and not src[i - 1:i].isalnum():
            m = re.match(r'b?r(#*)"', src[i:])
            end = src.find('"' + m.group(1), i + m.end())
            out.append('""')
            i = n if end < 0 else end + 1 + len(m.group(1))
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == '\\' else 1
            out.append('""')
            i += 1
        elif c == "'" and re.match(r"'(\\.[^']*|[^'\\])'", src[i:i + 12]):
            m = re.match(r"'(\\.[^']*|[^'\\])'", src[i:])
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def strip(src):
    """The code without comments and string contents; test modules' `super` is the file."""
    src = code_only(src)
    out, i = [], 0
    while True:
        m = TEST_MOD.search(src, i)
        if not m:
            out.append(src[i:])
            return ''.join(out)
        out.append(src[i:m.start()])
        depth, j = 1, m.end()
        while depth and j < len(src):
            depth += {'{': 1, '}': -1}.get(src[j], 0)
            j += 1
        out.append(src[m.end():j - 1].replace('super::', 'self::'))
        i = j


def modules(root):
    """Module path (crate, name, ...) -> file, for the library and the binary."""
    files = {}

    def walk(path, f):
        files[path] = f
        base = os.path.dirname(f) if f.endswith(('mod.rs', 'lib.rs', 'main.rs')) else f[:-3]
        names = [m.group(1) for m in re.finditer(r'^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', strip(open(f).read()), re.M)]
        # Modules a macro declares (`commands!` in src/cli/mod.rs) are the folder's other files
        # (a crate root's folder holds both crates: its modules are the declared ones).
        if not f.endswith(('lib.rs', 'main.rs')) and os.path.isdir(base):
            names += sorted(n[:-3] if n.endswith('.rs') else n for n in os.listdir(base)
                            if (n.endswith('.rs') and n not in ('mod.rs', 'lib.rs', 'main.rs'))
                            or os.path.exists(os.path.join(base, n, 'mod.rs')))
        for name in dict.fromkeys(names):
            if path + (name,) in files:
                continue
            for c in (os.path.join(base, name + '.rs'), os.path.join(base, name, 'mod.rs')):
                if os.path.exists(c):
                    walk(path + (name,), c)
                    break

    for crate, top in (('lib', 'lib.rs'), ('bin', 'main.rs')):
        if os.path.exists(os.path.join(root, top)):
            walk((crate,), os.path.join(root, top))
    return files


def use_paths(tree):
    """`a::{b, c::{d as e}}` -> [[a, b], [a, c, d]]."""
    def split(s):
        parts, depth, cur = [], 0, ''
        for ch in s:
            depth += {'{': 1, '}': -1}.get(ch, 0)
            if ch == ',' and depth == 0:
                parts.append(cur)
                cur = ''
            else:
                cur += ch
        return [p.strip() for p in parts + [cur] if p.strip()]

    def expand(prefix, s):
        paths = []
        for part in split(s):
            if '{' in part:
                head = part[:part.index('{')].rstrip(': ')
                inner = part[part.index('{') + 1:part.rindex('}')]
                paths += expand(prefix + [x for x in head.split('::') if x], inner)
            else:
                part = re.sub(r'\s+as\s+\w+$', '', part)
                paths.append(prefix + [x.strip() for x in part.split('::') if x.strip()])
        return paths

    return expand([], ' '.join(tree.split()))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), '..', 'src')
    files = modules(root)
    texts = {m: strip(open(f).read()) for m, f in files.items()}
    uses = {m: [(bool(u.group(1)), p) for u in re.finditer(r'\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);', t)
                for p in use_paths(u.group(2))] for m, t in texts.items()}

    def resolve(mod, segs, depth=0):
        if depth > 20 or not segs:
            return mod
        head = segs[0]
        if head == 'crate':
            return walk((mod[0],), segs[1:], depth)
        if head == 'bigram' and mod[0] == 'bin':
            return walk(('lib',), segs[1:], depth)
        if head == 'super':
            return walk(mod[:-1], segs[1:], depth)
        if head == 'self' or mod + (head,) in files:
            return walk(mod, segs[1:] if head == 'self' else segs, depth)
        return None  # another crate, or an item of this file

    def walk(cur, segs, depth):
        for s in segs:
            if s == 'super':
                cur = cur[:-1]
            elif cur + (s,) in files:
                cur = cur + (s,)
            elif s not in ('self', '*'):
                for public, path in uses[cur]:
                    if public and path and path[-1] == s:
                        return resolve(cur, path, depth + 1) or cur
                return cur
        return cur

    edges = {}
    for mod, text in texts.items():
        deps = {resolve(mod, p) for _, p in uses[mod]}
        for m in re.finditer(r'(?<![:\w])((?:crate|super|self|bigram)(?:::\w+)+)', text):
            deps.add(resolve(mod, m.group(1).split('::')))
        for m in re.finditer(r'(?<![:\w])(\w+)((?:::\w+)+)', text):
            if mod + (m.group(1),) in files:
                deps.add(resolve(mod, (m.group(1) + m.group(2)).split('::')))
        edges[mod] = deps - {None, mod}

    if '--graph' in sys.argv:
        for m in sorted(edges, key=files.get):
            print(files[m], '->', ' '.join(sorted(files[d] for d in edges[m])))
    # Strongly connected components (Tarjan): each of more than one file is a circle.
    index, low, stack, on, circles = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while not c or c[-1] != v:
                c.append(stack.pop())
                on.discard(c[-1])
            if len(c) > 1:
                circles.append(c)

    for v in edges:
        if v not in index:
            visit(v)
    for c in circles:
        print('circle:', ', '.join(sorted(files[m] for m in c)))
        for m in c:
            for d in sorted(edges[m] & set(c), key=files.get):
                print(f'    {files[m]} imports {files[d]}')
    print(f'{len(circles)} import circle(s) among {len(files)} files')
    return 1 if circles else 0


if __name__ == '__main__':
    sys.exit(main())
