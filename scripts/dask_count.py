#!/usr/bin/env python3
"""Count a corpus on a Dask cluster: one `bigram count` per shard on the workers, one
`bigram merge` of what comes back on this machine.

Map: each task runs `bigram count --out -` on one shard, where a worker reads it, and returns
the checkpoint's bytes (a few kB), not a path on the worker's disk. Reduce: this process writes
those bytes into a private temporary folder and runs `bigram merge --out OUT`, which writes one
count checkpoint atomically. The result is the count model of all the inputs read as one file,
count for count. A shard that fails fails the job with its error, and nothing is written.

Needs Dask here and on the workers, and the `bigram` binary on every worker (on PATH, or named
by --bigram) and here. The task code travels with each task: the workers need no copy of this
script, and no package beyond Dask.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass

PROG = "dask_count.py"
INSTALL = "-m pip install 'dask[distributed]>=2024.1'"
CHUNK = 1 << 20
# What bigram strips around a line (Rust's trim_ascii): a piece of only these has no names.
BLANK = b" \t\n\r\x0c"
BOM = b"\xef\xbb\xbf"


class Failure(Exception):
    """A failure and the exit code it means: 2 for a bad input or shard, 1 for anything else."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Interrupted(BaseException):
    """SIGTERM, raised where the main thread is, so that the cluster is closed on the way out.
    A BaseException, like KeyboardInterrupt, so that no `except Exception` takes it."""


@dataclass(frozen=True)
class Shard:
    """A file, or the bytes [start, end) of one, which start and end at line starts."""

    path: str  # absolute: this machine and every worker open this path
    shown: str  # as the user named it, for messages
    size: int  # the file's size here; a worker that sees another size refuses the shard
    start: int = 0
    end: int = 0
    piece: int = 0  # 1-based; 0 for the whole file
    pieces: int = 1

    @property
    def whole(self) -> bool:
        return self.piece == 0

    def label(self) -> str:
        if self.whole:
            return self.shown
        return f"{self.shown}, piece {self.piece} of {self.pieces}, bytes {self.start}-{self.end}"

    def file_name(self) -> str:
        """A name for its checkpoint that says which shard it counts."""
        base = os.path.basename(self.path)
        return base if self.whole else f"{base}.piece-{self.piece}-of-{self.pieces}"


def _labels(group: list) -> str:
    return "; ".join(s.label() for s in group)


# --- the task: runs on a worker, and needs nothing there but the standard library -------------


def count_on_worker(shards: list, bigram: str, options: list) -> dict:
    """`bigram count --out -` of the shards read as one: the checkpoint's bytes, or the error in
    the user's terms (file names as given, line numbers of the whole file). Failures come back
    as values, not exceptions, so that Dask never retries them and the client shows them as
    they are."""
    worker = _worker_name()
    # Whole files are read by bigram itself (it records their paths and checksums); a piece is
    # streamed to its stdin, as no file holds just the piece.
    streamed = any(not s.whole for s in shards)
    data = ["-"] if streamed else [s.path for s in shards]
    cmd = [bigram, "count", "--quiet", *options, "--data", *data, "--out", "-"]
    # A scratch working folder, so that nothing bigram might write lands anywhere else.
    with (
        tempfile.TemporaryDirectory(prefix="bigram-dask-") as scratch,
        tempfile.TemporaryFile() as err,
    ):
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=scratch,
                stdin=subprocess.PIPE if streamed else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,  # a file, not a pipe: it cannot fill up and stall bigram
            )
        except OSError as e:
            message = (
                f"cannot run {bigram} on worker {worker}: {e.strerror}; put bigram on every "
                "worker's PATH, or name it with --bigram"
            )
            return {"worker": worker, "code": 1, "message": message}
        feeder = _Feeder(proc, shards) if streamed else None
        checkpoint = proc.communicate()[0] if feeder is None else _read_all(proc)
        code = proc.wait()
        if feeder:
            feeder.join()
        err.seek(0)
        message = err.read().decode("utf-8", "replace").strip()
    if feeder and feeder.error:
        return {"worker": worker, "code": 2, "message": f"{feeder.error} (on worker {worker})"}
    if code != 0:
        # A shard of blank lines adds nothing, as it adds nothing inside one count of all.
        if "has no names" in message and (feeder is None or feeder.blank):
            return {"worker": worker, "code": 0, "empty": True}
        if code < 0:
            message = f"bigram count was killed by signal {-code}. {message}".strip()
        elif not message:
            message = f"bigram count exited with code {code} and said nothing"
        message = f"{_in_user_terms(message, shards)} ({_labels(shards)}, on worker {worker})"
        return {"worker": worker, "code": code if code in (1, 2) else 1, "message": message}
    if not _is_safetensors(checkpoint):
        message = (
            f"{bigram} on worker {worker} wrote no checkpoint to stdout: this needs a bigram "
            "whose count takes --out -"
        )
        return {"worker": worker, "code": 1, "message": message}
    return {"worker": worker, "code": 0, "checkpoint": checkpoint}


def _read_all(proc: subprocess.Popen) -> bytes:
    """bigram's stdout to its end, while the feeder writes its stdin."""
    assert proc.stdout is not None
    return proc.stdout.read()


def _worker_name() -> str:
    try:
        from distributed import get_worker  # noqa: PLC0415 - there on a worker, maybe not elsewhere

        return get_worker().address
    except Exception:  # noqa: BLE001 - run outside a worker: any name will do
        return f"pid {os.getpid()}"


class _Unreadable(Exception):
    """The worker cannot read the shard the client cut."""


class _Feeder(threading.Thread):
    """Writes the shards' bytes to bigram's stdin (a newline after one that lacks its own), once
    it has checked that the worker sees the file the client cut."""

    def __init__(self, proc: subprocess.Popen, shards: list) -> None:
        super().__init__(daemon=True)
        assert proc.stdin is not None
        self.proc, self.stdin, self.shards = proc, proc.stdin, shards
        self.error: str | None = None
        self.blank = True
        self.start()

    def run(self) -> None:
        shard = self.shards[0]
        try:
            last = b"\n"
            for shard in self.shards:
                for chunk in _read_range(shard):
                    if self.blank and chunk.translate(None, BLANK):
                        self.blank = False
                    self.stdin.write(chunk)
                    last = chunk[-1:]
                if last != b"\n":
                    self.stdin.write(b"\n")
                    last = b"\n"
        except BrokenPipeError:
            pass  # bigram stopped reading: its exit code and message say why
        except Exception as e:  # noqa: BLE001 - whatever it is, the shard was not fed whole
            self.error = str(e) if isinstance(e, _Unreadable) else f"reading {shard.label()}: {e}"
            self.proc.kill()  # so that a count of part of the shard cannot pass for the shard's
        finally:
            with contextlib.suppress(OSError):
                self.stdin.close()


def _read_range(shard: Shard):
    """The shard's bytes in chunks, without the BOM that may open the file (bigram drops it
    there, and would not see it at the start of the file inside a stream of several)."""
    try:
        f = open(shard.path, "rb")  # noqa: SIM115 - closed by the `with` below, after the checks
    except OSError as e:
        raise _Unreadable(f"cannot read {shard.shown} on this worker: {e.strerror}") from e
    with f:
        size = os.fstat(f.fileno()).st_size
        if size != shard.size:
            raise _Unreadable(
                f"{shard.shown} is {size} bytes on this worker and {shard.size} where it was "
                "cut: every worker must read the same file at that path (or it changed meanwhile)"
            )
        start, end = (0, size) if shard.whole else (shard.start, shard.end)
        if start > 0:
            f.seek(start - 1)
            if f.read(1) != b"\n":
                raise _Unreadable(
                    f"{shard.shown}: byte {start} is not a line start on this worker: the file "
                    "changed since it was cut, or the worker reads another file at that path"
                )
        elif f.read(len(BOM)) == BOM:
            start = len(BOM)
        else:
            f.seek(0)
        while start < end:
            chunk = f.read(min(CHUNK, end - start))
            if not chunk:
                raise _Unreadable(f"{shard.shown} ended early on this worker")
            start += len(chunk)
            yield chunk


def _in_user_terms(message: str, shards: list) -> str:
    """bigram's message with the paths the user gave and, for a piece read from stdin, the
    line numbers of the whole file."""
    message = re.sub(r"^error: ", "", message)
    if len(shards) == 1 and not shards[0].whole:
        shard = shards[0]
        before = _lines_before(shard.path, shard.start)
        if before is not None:
            message = re.sub(
                r"\bstdin:(\d+):", lambda m: f"{shard.shown}:{int(m.group(1)) + before}:", message
            )
        return message
    for shard in shards:
        message = message.replace(shard.path, shard.shown)
    return message


def _lines_before(path: str, offset: int) -> int | None:
    """How many lines end before byte `offset` (read only when a piece failed)."""
    try:
        with open(path, "rb") as f:
            lines = 0
            while offset > 0:
                chunk = f.read(min(CHUNK, offset))
                if not chunk:
                    return None
                lines += chunk.count(b"\n")
                offset -= len(chunk)
            return lines
    except OSError:
        return None


def _is_safetensors(data: bytes) -> bool:
    """Whether `data` starts as a safetensors file does: a header length, then its JSON."""
    header = int.from_bytes(data[:8], "little")
    return len(data) > len("12345678{") and data[8:9] == b"{" and 8 + header <= len(data)


# --- the client: arguments and checks, before any cluster -------------------------------------


def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_paragraphs(
            "Count names on a Dask cluster and merge the counts into one count checkpoint: the "
            "same as `bigram count` of all the inputs read as one, count for count.",
            "Each shard (a file, or a piece of one cut at line starts) is counted by `bigram "
            "count` on a worker, which reads it at the same path as this machine does; the "
            "checkpoints come back here and `bigram merge` writes OUT. Without --scheduler it "
            "starts a cluster on this machine.",
        ),
        epilog="examples:\n"
        f"  {PROG} --data data/names.txt --pieces 8 --bigram target/release/bigram"
        " --out corpus.safetensors\n"
        f"  {PROG} --scheduler tcp://head:8786 --data '/shared/corpus/*.txt'"
        " --out corpus.safetensors\n\n"
        + _paragraphs(
            "exit codes: 0 success, 2 a bad argument, input or shard (the message names its "
            "file and line), 1 anything else (the cluster, a worker, the machine), 130/143 when "
            "interrupted. Nothing is written unless every shard was counted.",
        )
        + f"\n\ninstall, here and on every worker:\n  python3 {INSTALL}",
    )
    add = parser.add_argument
    add(
        "--data",
        nargs="+",
        required=True,
        metavar="PATH",
        help="names files, or glob patterns (quoted: '/corpus/*.txt') expanded here; each file "
        "must be readable at the same path on every worker",
    )
    add(
        "--pieces",
        type=_positive,
        default=1,
        metavar="N",
        help="cut each file into N pieces at line starts, a task each (default 1: a task per "
        "file); a small file gives fewer pieces, never an empty one",
    )
    add(
        "--out",
        default="counts.safetensors",
        metavar="PATH",
        help="the merged count checkpoint, written atomically once every shard is counted; - "
        "writes it to stdout (not a terminal) and the report to stderr "
        "(default: counts.safetensors)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://head:8786 (default: "
        "$DASK_SCHEDULER_ADDRESS, else a local cluster)",
    )
    where.add_argument(
        "--scheduler-file",
        metavar="PATH",
        help="the file a scheduler wrote its address to (dask scheduler --scheduler-file, "
        "dask-mpi)",
    )
    where.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="worker processes of a local cluster (default: one per core, at most one per shard)",
    )
    add(
        "--bigram",
        default="bigram",
        metavar="PATH",
        help="the bigram binary: a name, looked up on each worker's PATH and here (default "
        "bigram), or a path, made absolute here, where every worker must have it too",
    )
    add("--order", choices=["2", "3"], help="passed to bigram count: the context length")
    add(
        "--vocab",
        choices=["letters", "auto"],
        help="passed to bigram count; with auto every shard must find the same characters, or "
        "the merge refuses them",
    )
    add("--lowercase", action="store_true", help="passed to bigram count: fold upper case")
    add("--smoothing", metavar="S", help="passed to bigram count: added to every count")
    add("--threads", metavar="N", help="passed to bigram count and merge: threads of each")
    add("--json", action="store_true", help="the report as one JSON object")
    add("--quiet", action="store_true", help="nothing on stderr but errors")
    return parser.parse_args(argv)


def _paragraphs(*texts: str) -> str:
    width = min(shutil.get_terminal_size().columns, 100) - 2
    return "\n\n".join(textwrap.fill(t, width) for t in texts)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def note(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        _stderr(f"{PROG}: {line}")


def _stderr(text: str) -> None:
    if sys.stderr is None:  # closed when Python started; print(file=None) would go to stdout
        return
    with contextlib.suppress(OSError, ValueError):  # gone: the exit code still tells
        print(text, file=sys.stderr, flush=True)


def reopen_closed_streams() -> set:
    """Put /dev/null on closed standard descriptors, so that no file opened later by this
    process or the cluster takes their numbers (a subprocess would write its output into it)."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
    for fd in sorted(closed):
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    return closed


def check_out(out: str, closed: set) -> None:
    """Refuse an output that cannot or must not be written, before any work."""
    if out == "-":
        if 1 in closed:
            raise Failure("--out -: stdout is closed; give --out PATH, or redirect stdout", 2)
        if os.isatty(1):
            raise Failure(
                "--out - would write a binary checkpoint to the terminal; redirect stdout "
                "(> counts.safetensors, | ...) or give --out PATH",
                2,
            )
        return
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise Failure(f"--out {out}: {e.strerror}", 2) from e
    null = os.stat(os.devnull)
    if st is not None and stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev:
        return  # the null device keeps nothing, as `bigram merge --out /dev/null` does
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device or FIFO)"
        raise Failure(
            f"--out {out} is {what}: the checkpoint is written to a temporary file and renamed "
            "into place, which would replace it; give a file path, or --out - and redirect "
            "stdout",
            2,
        )
    folder = os.path.dirname(out) or "."
    if not os.path.isdir(folder):
        raise Failure(f"--out {out}: the folder {folder} does not exist; create it first", 2)
    try:  # the merge writes beside OUT: find out now, not after the whole count
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".bigram-dask-probe"):
            pass
    except OSError as e:
        raise Failure(f"--out {out}: cannot write in {folder}: {e.strerror}", 2) from e


def find_inputs(patterns: list) -> list:
    """(absolute path, name as given, size) of each input file, in order, each once."""
    found: list = []
    seen: dict = {}
    for pattern in patterns:
        if pattern == "-":
            raise Failure(
                "--data -: standard input cannot be shared with workers; count it with `bigram "
                "count --data -`, or save it to a file the workers can read",
                2,
            )
        if os.path.lexists(pattern):
            matches = [pattern]
        else:
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise Failure(f"{pattern}: no such file, and no file matches it as a pattern", 2)
        for name in matches:
            try:
                st = os.stat(name)
            except OSError as e:
                raise Failure(f"{name}: {e.strerror}", 2) from e
            if not stat.S_ISREG(st.st_mode):
                raise Failure(
                    f"{name} is not a regular file (a folder, FIFO or device): each input must "
                    "be a file the workers can read at the same path",
                    2,
                )
            if not os.access(name, os.R_OK):
                raise Failure(f"{name}: permission denied", 2)
            key = (st.st_dev, st.st_ino)
            if key in seen:
                raise Failure(
                    f"{seen[key]} and {name} are the same file, which would be counted twice; "
                    "give each file once",
                    2,
                )
            seen[key] = name
            found.append((os.path.abspath(name), name, st.st_size))
    return found


def refuse_input_as_out(out: str, inputs: list) -> None:
    if out == "-" or not os.path.exists(out):
        return
    for path, shown, _ in inputs:
        if os.path.samefile(out, path):
            raise Failure(
                f"--out {out} is the input {shown}: writing it would destroy the data; choose "
                "another output path",
                2,
            )


def cut(path: str, shown: str, size: int, pieces: int) -> list:
    """The file as shards: itself, or up to `pieces` byte ranges of about equal size, each
    from a line start to a line start. Empty ranges are dropped: a small file gives fewer."""
    if pieces == 1 or size == 0:
        return [Shard(path, shown, size)]
    bounds = [0]
    with open(path, "rb") as f:
        for k in range(1, pieces):
            bounds.append(_line_start(f, max(k * size // pieces, bounds[-1]), size))
    bounds.append(size)
    ranges = [(a, b) for a, b in zip(bounds, bounds[1:]) if a < b]
    if len(ranges) == 1:
        return [Shard(path, shown, size)]
    return [Shard(path, shown, size, a, b, i, len(ranges)) for i, (a, b) in enumerate(ranges, 1)]


def _line_start(f, pos: int, size: int) -> int:
    """The first line start at or after `pos`, or `size`. Not one whose line starts with a BOM:
    bigram drops a BOM at the start of its input, and this one is not at the file's start."""
    while 0 < pos < size:
        f.seek(pos - 1)
        scanned = pos - 1
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                return size
            i = chunk.find(b"\n")
            if i >= 0:
                pos = scanned + i + 1
                break
            scanned += len(chunk)
        f.seek(pos)
        if f.read(len(BOM)) != BOM:
            return pos
        pos += 1  # inside the BOM's line: on to the next line start
    return min(pos, size)


def bigram_here(name: str) -> str:
    """The binary as every machine runs it: a path made absolute, a bare name as it is."""
    if os.sep in name:
        path = os.path.abspath(name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise Failure(
                f"--bigram {name}: no executable there; build it (cargo build --release) or "
                "name the binary",
                2,
            )
        return path
    if shutil.which(name) is None:
        raise Failure(
            f"--bigram {name}: not found on PATH, and this machine runs `bigram merge`; put "
            "bigram on PATH or give --bigram PATH (target/release/bigram in a checkout)",
            2,
        )
    return name


def count_options(args: argparse.Namespace) -> list:
    options = []
    for flag in ("order", "vocab", "smoothing", "threads"):
        value = getattr(args, flag)
        if value is not None:
            options += [f"--{flag}", value]
    if args.lowercase:
        options.append("--lowercase")
    return options


# --- the client: the cluster, the count and the merge -----------------------------------------


def connect(args: argparse.Namespace, shard_count: int, keep, scratch: str):
    """A Dask client, of the given scheduler or of a new local cluster (its workers' files in
    `scratch`), and where it runs. `keep` takes each context to close on the way out."""
    try:
        import dask  # noqa: PLC0415 - only here, so that --help and the checks work without it
        from distributed import Client, LocalCluster  # noqa: PLC0415
    except ImportError as e:
        raise Failure(
            f"Dask is not installed for {sys.executable} ({e}); run: {sys.executable} {INSTALL}"
        ) from e
    address = args.scheduler
    if not address and not args.scheduler_file:
        address = dask.config.get("scheduler-address", None)
    where = address or args.scheduler_file or "local"
    try:
        if where != "local":
            client = keep(Client(address, scheduler_file=args.scheduler_file, timeout="10s"))
            client.wait_for_workers(1, timeout=60)
            workers = len(client.scheduler_info()["workers"])
            note(args, f"connected to {client.scheduler.address}, {_n(workers, 'worker')}")
            return client, where
        workers = args.workers or min(os.cpu_count() or 1, shard_count)
        # Its scratch files (and Dask's lock files) go where this run cleans up after itself.
        keep(dask.config.set({"temporary-directory": os.path.join(scratch, "dask")}))
        cluster = keep(
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,  # a task is one bigram process, which has its own threads
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        )
        client = keep(Client(cluster))
        note(args, f"started a local cluster of {_n(workers, 'worker')}")
        return client, where
    except Exception as e:  # noqa: BLE001 - Dask raises many kinds; each means the same here
        hint = "" if where == "local" else "; is a scheduler running there, with workers?"
        raise Failure(
            f"cannot use the Dask cluster ({where}): {type(e).__name__}: {e}{hint}"
        ) from e


def count_all(client, groups: list, bigram: str, options: list) -> list:
    """Count each group of shards as one task; the outcomes in the groups' order. The first
    failure cancels the rest and fails the job."""
    from distributed import as_completed  # noqa: PLC0415 - see connect

    job = uuid.uuid4().hex[:8]
    futures = [
        client.submit(count_on_worker, group, bigram, options, key=f"bigram-count-{job}-{i}")
        for i, group in enumerate(groups)
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    outcomes: list = [None] * len(futures)
    try:
        for future in as_completed(futures):
            group = groups[index[future.key]]
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - a lost worker, a task that raised
                raise Failure(
                    f"counting {_labels(group)} failed on the cluster: {type(e).__name__}: {e}"
                ) from e
            if outcome["code"]:
                raise Failure(outcome["message"], outcome["code"])
            outcomes[index[future.key]] = outcome
    finally:
        client.cancel([f for f in futures if not f.done()])
    return outcomes


def keys_of(checkpoint: bytes) -> set:
    """What `bigram merge` takes for the same data: the checkpoint's own bytes, and each data
    file checksum that it records (a piece read from stdin records its bytes' checksum)."""
    keys = {"checkpoint:" + hashlib.sha256(checkpoint).hexdigest()}
    header = int.from_bytes(checkpoint[:8], "little")
    meta = json.loads(checkpoint[8 : 8 + header]).get("__metadata__", {})
    for entry in json.loads(meta.get("data_files", "[]")):
        if entry.get("sha256"):
            keys.add("data:" + entry["sha256"])
    return keys


def colliding(outcomes: list) -> list:
    """The outcomes as sets of indices that share a key (a set of one collides with none)."""
    parent = list(range(len(outcomes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict = {}
    for i, outcome in enumerate(outcomes):
        for key in () if outcome.get("empty") else keys_of(outcome["checkpoint"]):
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    sets: dict = {}
    for i in range(len(outcomes)):
        sets.setdefault(root(i), []).append(i)
    return list(sets.values())


def count_distinct(client, shards: list, bigram: str, options: list) -> list:
    """Count every shard once, in groups that `bigram merge` takes together: (group, outcome).

    Merge refuses two checkpoints that record the same data checksum (a piece read from stdin
    records the checksum of its bytes), or that are the same bytes: its guard against data
    counted twice. The shards here are distinct by construction (distinct files, disjoint byte
    ranges), but two can still hold the same bytes, such as repeated lines or copies of a file.
    Those are counted again, together as one task, until no two checkpoints collide: each shard
    is still counted once, and merge takes all."""
    counted: list = []
    pending = [[s] for s in shards]
    while pending:
        counted += zip(pending, count_all(client, pending, bigram, options))
        sets = colliding([outcome for _, outcome in counted])
        pending = [[s for i in group for s in counted[i][0]] for group in sets if len(group) > 1]
        counted = [counted[group[0]] for group in sets if len(group) == 1]
    order = {s: i for i, s in enumerate(shards)}
    counted.sort(key=lambda pair: order[pair[0][0]])
    return counted


def merge(args: argparse.Namespace, bigram: str, counted: list, tmp: str) -> dict:
    """`bigram merge` of the counted checkpoints into OUT (or into `tmp`, then to stdout, for
    --out -); its report."""
    paths = []
    width = len(str(len(counted)))
    for i, (group, outcome) in enumerate(counted, 1):
        more = f"-and-{len(group) - 1}-more" if len(group) > 1 else ""
        # Named for their shards: the merged checkpoint lists these paths in `sources`.
        path = os.path.join(tmp, f"{i:0{width}}-{group[0].file_name()}{more}.safetensors")
        with open(path, "wb") as f:
            f.write(outcome["checkpoint"])
        paths.append(path)
    out = os.path.join(tmp, "merged.safetensors") if args.out == "-" else args.out
    threads = ["--threads", args.threads] if args.threads else []
    done = subprocess.run(
        [bigram, "merge", "--json", *threads, *paths, "--out", out],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = re.sub(r"^error: ", "", done.stderr.decode("utf-8", "replace").strip())
        for path, (group, _) in zip(paths, counted):  # the shards, not our temporary files
            message = message.replace(path, f"the counts of {_labels(group)}")
        if "different vocabularies" in message and args.vocab == "auto":
            message += (
                "\n(with --vocab auto each shard finds its own characters; use --vocab letters, "
                "with --lowercase if needed, or shards that each hold every character)"
            )
        code = done.returncode if done.returncode in (1, 2) else 1
        raise Failure(f"bigram merge: {message}", code)
    merged = json.loads(done.stdout)
    if args.out == "-":
        with open(out, "rb") as f:
            data = f.read()
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except OSError as e:
            raise Failure(f"stdout closed before the whole checkpoint was written ({e})") from e
        merged["out"] = "-"
    return merged


def report(args: argparse.Namespace, summary: dict) -> None:
    """The report: on stdout, or on stderr when stdout carries the checkpoint."""
    to_stderr = args.out == "-"
    if to_stderr and args.quiet:
        return  # --quiet keeps stderr for errors
    if args.json:
        text = json.dumps(summary) + "\n"
    else:
        empty = f", {_n(summary['empty'], 'shard')} without names" if summary["empty"] else ""
        saved = (
            "wrote the checkpoint to stdout" if summary["out"] == "-" else f"saved {summary['out']}"
        )
        text = (
            f"counted {_n(summary['shards'], 'shard')} of {_n(summary['files'], 'file')} on "
            f"{_n(summary['workers'], 'worker')} in {summary['seconds']:.2f} s{empty} "
            f"(cluster ready in {summary['cluster_seconds']:.2f} s)\n"
            f"merged: {summary['examples']} examples, nll {summary['nll']:.4f} "
            f"(smoothing {summary['smoothing']:g})\n{saved}\n"
        )
    stream = sys.stderr if to_stderr else sys.stdout
    try:
        stream.write(text)
        stream.flush()
    except (OSError, AttributeError, ValueError):
        # The reader went away (| head -0) or the stream is closed: the checkpoint is saved,
        # which is the job, so this still succeeds, as bigram does. No second error at exit:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def main(argv: list | None = None) -> int:
    closed = reopen_closed_streams()
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def on_term(signum, frame):
        raise Interrupted

    signal.signal(signal.SIGTERM, on_term)
    try:
        return run(args, closed)
    except Failure as e:
        _stderr(f"{PROG}: error: {e}")
        return e.code
    except (KeyboardInterrupt, Interrupted) as e:
        _stderr(f"{PROG}: interrupted; nothing was saved")
        return 143 if isinstance(e, Interrupted) else 130


def run(args: argparse.Namespace, closed: set) -> int:
    check_out(args.out, closed)
    inputs = find_inputs(args.data)
    refuse_input_as_out(args.out, inputs)
    bigram = bigram_here(args.bigram)
    shards = [s for path, shown, size in inputs for s in cut(path, shown, size, args.pieces)]
    options = count_options(args)
    # The folder outlives the cluster (closed first), whose workers keep their scratch in it.
    with tempfile.TemporaryDirectory(prefix="bigram-dask-") as tmp, contextlib.ExitStack() as stack:
        started = time.monotonic()
        client, where = connect(args, len(shards), stack.enter_context, tmp)
        cluster_seconds = time.monotonic() - started
        counted = count_distinct(client, shards, bigram, options)
        together = sum(len(group) for group, _ in counted if len(group) > 1)
        if together:
            note(
                args,
                f"{together} shards with the same bytes were counted again as "
                "one task, which merge takes (it refuses the same data twice)",
            )
        empty = [group for group, outcome in counted if outcome.get("empty")]
        for group in empty:
            note(args, f"{_labels(group)}: no names (blank lines only); it adds nothing")
        counted = [(group, outcome) for group, outcome in counted if not outcome.get("empty")]
        if not counted:
            names = ", ".join(shown for _, shown, _ in inputs)
            raise Failure(f"{names}: no names (empty, or only blank lines)", 2)
        merged = merge(args, bigram, counted, tmp)
        seconds = time.monotonic() - started - cluster_seconds
    report(
        args,
        {
            "shards": len(shards),
            "files": len(inputs),
            "empty": len(empty),
            "together": together,
            "workers": len({outcome["worker"] for _, outcome in counted}),
            "cluster": where,
            "cluster_seconds": round(cluster_seconds, 3),
            "seconds": round(seconds, 3),
            "examples": merged["examples"],
            "nll": merged["nll"],
            "smoothing": merged["smoothing"],
            "out": merged["out"],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
elif __name__ != "__mp_main__":  # (what a local cluster's worker process imports this as)
    # Imported as a module, not run: ship the task's code by value all the same, so that the
    # workers need no copy of this file.
    with contextlib.suppress(ImportError, AttributeError):
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
