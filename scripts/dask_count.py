#!/usr/bin/env python3
"""Count a names file on a Dask cluster: `bigram count --shard I/K` of one shared file on the
workers, one `bigram merge` of what comes back here.

Each task opens the file at its own path, where the worker sees it (a shared file system, or a
copy at the same path), counts the names whose lines start in its K-th of the bytes and returns
the checkpoint's bytes (a few kB). Once every shard is back, `bigram merge` writes one count
checkpoint atomically: the count model of the whole file. A shard that fails fails the job with
bigram's own error (the file and the line), and nothing is written.

Needs Dask here and on the workers, and the `bigram` binary on every worker (on PATH, or at the
path --bigram names) and here.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

PROG = "dask_count.py"
INSTALL = "-m pip install 'dask[distributed]>=2024.1'"
# bigram's words for a shard where no name starts (a small file cut finer than its lines).
NO_NAMES = "has no names"


class Failure(Exception):
    """A failure and its exit code: 2 for bad input or a bad shard, 1 for anything else."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def count_shard(bigram: str, path: str, shard: str, options: list[str]) -> dict:
    """On a worker: count one shard; its checkpoint's bytes, or bigram's error."""
    from distributed import get_worker

    done = subprocess.run(
        [bigram, "count", "--quiet", "--data", path, "--shard", shard, "--out", "-", *options],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return {
        "worker": get_worker().address,
        "code": done.returncode,
        "bytes": done.stdout if done.returncode == 0 else b"",
        "error": done.stderr.decode(errors="replace").strip(),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 written, 2 a bad input or shard (bigram's error, with the file "
        "and line), 1 anything else; nothing is written unless every shard was counted. "
        f"Install, here and on every worker: python3 {INSTALL}",
    )
    add = parser.add_argument
    add("--data", nargs="+", required=True, metavar="PATH",
        help="names files, or quoted glob patterns expanded here; every worker must see each "
        "file at the same path")
    add("--shards", "--pieces", type=int, default=1, metavar="K", dest="shards",
        help="count each file as K shards of about equal bytes, a task each (default 1; at "
        "most one per byte of the file)")
    add("--out", default="counts.safetensors", metavar="PATH",
        help="the merged checkpoint; - writes it to stdout and the report to stderr")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running scheduler (default: $DASK_SCHEDULER_ADDRESS, else a "
                       "local cluster)")
    where.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of a local cluster (default: one per core)")
    add("--bigram", default="bigram", metavar="PATH",
        help="the bigram binary: a name looked up on PATH, or a path every worker has")
    add("--vocab-from", metavar="CKPT",
        help="passed to bigram count: read with this checkpoint's vocabulary (a shared path)")
    for flag in ("--order", "--vocab", "--smoothing", "--threads"):
        add(flag, help=f"passed to bigram count ({flag[2:]})")
    add("--lowercase", action="store_true", help="passed to bigram count")
    add("--json", action="store_true", help="the report as one JSON object")
    args = parser.parse_args(argv)
    if args.shards < 1 or (args.workers is not None and args.workers < 1):
        parser.error("--shards and --workers take a number of at least 1")
    return args


def input_files(patterns: list[str]) -> list[str]:
    """The files named, patterns expanded, made absolute (the path every worker opens)."""
    files = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not found:
            raise Failure(f"no file matches {pattern!r}", 2)
        for path in found:
            if not os.path.isfile(path):
                raise Failure(f"{path} is not a regular file (a shard is read at an offset)", 2)
            files.append(os.path.abspath(path))
    return files


def check_output(out: str, files: list[str]) -> None:
    """Refuse, before any work, an output that is an input or would not be a regular file."""
    if out == "-":
        if sys.stdout.isatty():
            raise Failure("--out - writes a checkpoint to stdout: redirect it to a file", 2)
        return
    try:
        info = os.stat(out)
    except FileNotFoundError:
        return
    if any(os.path.samefile(out, f) for f in files):
        raise Failure(f"--out {out} is the input {out}: it would be replaced", 2)
    if not stat.S_ISREG(info.st_mode):
        raise Failure(f"--out {out} is not a regular file", 2)


def count_options(args: argparse.Namespace) -> list[str]:
    options = []
    for flag in ("order", "vocab", "vocab_from", "smoothing", "threads"):
        value = getattr(args, flag)
        if value is not None:
            options += ["--" + flag.replace("_", "-"), value]
    return options + (["--lowercase"] if args.lowercase else [])


def run(args: argparse.Namespace, say) -> dict:
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise Failure(f"Dask is not installed ({e}): python3 {INSTALL}") from e
    files = input_files(args.data)
    check_output(args.out, files)
    bigram = args.bigram if os.sep not in args.bigram else os.path.abspath(args.bigram)
    options = count_options(args)
    scheduler = args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    started = time.monotonic()
    if scheduler:
        cluster, client = None, Client(scheduler)
    else:
        import logging

        n = args.workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        say(f"{PROG}: started a local cluster of {n} workers")
    try:
        workers = sorted(client.scheduler_info()["workers"]) or [None]
        # A shard of no byte holds no line: a file is cut into at most one shard per byte, so
        # asking for a billion makes no more tasks than the file has bytes.
        cuts = [(path, min(args.shards, max(1, os.path.getsize(path)))) for path in files]
        tasks = [(path, f"{i}/{k}") for path, k in cuts for i in range(1, k + 1)]
        # Spread round the workers, so that every one counts (Dask would also balance).
        futures = [
            client.submit(count_shard, bigram, path, shard, options, pure=False,
                          workers=[workers[k % len(workers)]] if workers[0] else None)
            for k, (path, shard) in enumerate(tasks)
        ]
        try:
            results = client.gather(futures)
        except Exception as e:  # a task that could not run bigram, a lost worker
            raise Failure(f"a shard's task failed: {type(e).__name__}: {e}") from e
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    counted = time.monotonic() - started
    kept, empty = [], 0
    for (path, shard), result in zip(tasks, results):
        if result["code"] == 0:
            kept.append(result)
        elif NO_NAMES in result["error"] and len(tasks) > 1:
            empty += 1
        else:
            code = 2 if result["code"] == 2 else 1
            raise Failure(f"shard {shard} of {path} on {result['worker']}:\n{result['error']}", code)
    if not kept:
        raise Failure(f"no shard holds a name: {', '.join(files)} {NO_NAMES}", 2)
    report = merge(bigram, kept, args)
    report.update(
        shards=len(kept), empty=empty, files=len(files),
        workers=len({r["worker"] for r in kept}),
        cluster=scheduler or "local", seconds=round(counted, 2),
    )
    return report


def merge(bigram: str, results: list[dict], args: argparse.Namespace) -> dict:
    """Write the shards' checkpoints to a private folder and merge them into --out."""
    with tempfile.TemporaryDirectory(prefix="dask_count.") as scratch:
        parts = []
        for k, result in enumerate(results):
            parts.append(os.path.join(scratch, f"shard-{k + 1}.safetensors"))
            with open(parts[-1], "wb") as f:
                f.write(result["bytes"])
        out = os.path.join(scratch, "merged.safetensors") if args.out == "-" else args.out
        command = [bigram, "merge", "--quiet", "--json", *parts, "--out", out]
        if args.threads is not None:
            command += ["--threads", args.threads]
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise Failure(f"bigram merge: {done.stderr.strip()}", done.returncode)
        if args.out == "-":
            with open(out, "rb") as f:
                sys.stdout.buffer.write(f.read())
            sys.stdout.flush()
        return json.loads(done.stdout)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    report_to = sys.stderr if args.out == "-" else sys.stdout

    def say(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    def terminated(*_) -> None:
        raise KeyboardInterrupt

    # SIGTERM ends the job as Ctrl-C does: the cluster is closed on the way out.
    signal.signal(signal.SIGTERM, terminated)
    try:
        report = run(args, say)
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report), file=report_to)
    else:
        print(f"counted {report['shards']} shards on {report['workers']} workers in "
              f"{report['seconds']} s; merged: {report['examples']} examples, nll "
              f"{report['nll']:.4f}; saved {args.out}", file=report_to)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
