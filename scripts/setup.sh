#!/usr/bin/env bash
# Prepare a checkout of bigram: libtorch 2.13.0 for tch, a Python with torch 2.13.0 for the
# PyTorch references, cargo's pointers to both (.cargo/config.toml), and data/names.txt.
#
# It uses what is already there, in this order, and installs nothing then:
#   LIBTORCH=<libtorch or torch folder>   (Python for the references: BIGRAM_PYTHON, or the
#                                          install that folder belongs to, if any)
#   LIBTORCH_USE_PYTORCH=1                (torch of BIGRAM_PYTHON, or of python3)
#   BIGRAM_PYTHON=<python with torch>
# Otherwise it installs torch==2.13.0 (about 4.6 GB) into one venv that every checkout on the
# machine shares: BIGRAM_VENV, or ~/.cache/bigram/torch-2.13.0-venv. It also installs the tests'
# other Python packages there (Dask, TensorBoard, nbformat), and adds those a venv made before
# lacks. A Python you point it at gets nothing installed: setup warns when it lacks them.
# Idempotent: a second run only checks (a few seconds). Works with macOS's tools too.
# Usage: scripts/setup.sh [--print-python]   (the option prints the references' Python)
set -euo pipefail

TORCH_VERSION=2.13.0
# What the tests use beside torch: scripts/dask_count.py's engine (tests/it/distributed.rs runs
# a local cluster), TensorBoard's own reader and server for `--tensorboard`, and nbformat to
# validate `notebook --ipynb`.
EXTRAS=('dask[distributed]>=2024.1' 'tensorboard>=2.12' 'nbformat>=5.0')
NAMES_SHA256=0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d
NAMES_URL=https://raw.githubusercontent.com/karpathy/makemore/master/names.txt

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Paths given in variables are the caller's: make them absolute before leaving its folder.
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
[ -z "${LIBTORCH:-}" ] || LIBTORCH=$(absolute "$LIBTORCH")
[ -z "${BIGRAM_NAMES:-}" ] || BIGRAM_NAMES=$(absolute "$BIGRAM_NAMES")
[ -z "${BIGRAM_VENV:-}" ] || BIGRAM_VENV=$(absolute "${BIGRAM_VENV%/}")
if [ -n "${BIGRAM_PYTHON:-}" ]; then
  case "$BIGRAM_PYTHON" in
    */*) BIGRAM_PYTHON=$(absolute "$BIGRAM_PYTHON") ;;
    *) BIGRAM_PYTHON=$(command -v "$BIGRAM_PYTHON") || die "BIGRAM_PYTHON=$BIGRAM_PYTHON is not on PATH" ;;
  esac
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

cleanup=() held_lock=""
trap 'for f in "${cleanup[@]+"${cleanup[@]}"}" ${held_lock:+"$held_lock"}; do rm -rf "$f"; done' EXIT

# --- portable helpers -------------------------------------------------------------------------
if command -v sha256sum >/dev/null 2>&1; then sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
elif command -v openssl >/dev/null 2>&1; then sha256_of() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
else die "no sha256 tool (sha256sum, shasum or openssl) on PATH"
fi

# Run "$@" while holding the lock $1.lock: flock where there is one, otherwise a lock folder
# holding the owner's PID (a lock whose owner is gone is taken over).
with_lock() {
  local lock=$1; shift
  if command -v flock >/dev/null 2>&1; then
    (exec 9>"$lock.lock" && flock 9 && "$@")
    return
  fi
  local dir=$lock.lock.d waited=0
  until mkdir "$dir" 2>/dev/null; do
    [ -d "$dir" ] || die "cannot create the lock $dir; is $(dirname "$dir") writable?"
    owner=$(cat "$dir/pid" 2>/dev/null || true)
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
      say "taking over the lock of a setup that is gone (pid $owner)"
      rm -rf "$dir"
      continue
    fi
    [ $((waited % 30)) -eq 0 ] && say "waiting for another setup to finish ($dir)"
    sleep 1; waited=$((waited + 1))
  done
  echo $$ >"$dir/pid"
  held_lock=$dir
  local status=0
  ("$@") || status=$?
  rm -rf "$dir"
  held_lock=""
  return "$status"
}

# The tch release that binds a PyTorch version (2.x needs tch 0.(x+13) since 2.1).
tch_for() {
  local minor; minor=$(printf '%s' "$1" | cut -d. -f2)
  case "$1" in 2.*) printf 'tch %s' "0.$((minor + 13))" ;; *) printf 'no tch release known here' ;; esac
}

need_version() { # $1 found version (may end +cu130), $2 where it was found
  [ "${1%%+*}" = "$TORCH_VERSION" ] && return 0
  die "$2 is PyTorch/libtorch ${1:-of unknown version}; bigram builds with tch 0.26, which needs $TORCH_VERSION ($1 goes with $(tch_for "${1%%+*}")). Point it at $TORCH_VERSION, or unset it and run setup again to install $TORCH_VERSION"
}

# Sets torch_found to "version<TAB>folder" of the torch a Python imports (empty when it has
# none). Importing torch takes seconds, so the Python asked last is not asked again.
probed_python="" torch_found=""
probe_torch() {
  [ -n "$probed_python" ] && [ "$probed_python" = "$1" ] && return 0
  torch_found=$("$1" -c 'import os, torch; print(torch.__version__ + "\t" + os.path.dirname(torch.__file__))' 2>/dev/null || true)
  probed_python=$1
}

# The version written in a libtorch (or torch) folder.
folder_version() {
  if [ -f "$1/build-version" ]; then tr -d '[:space:]' <"$1/build-version"
  elif [ -f "$1/version.py" ]; then sed -n "s/^__version__ = ['\"]\([^'\"]*\)['\"].*/\1/p" "$1/version.py" | head -1
  fi
}

# --- libtorch and the references' Python ------------------------------------------------------
venv_ready() {
  [ -x "$1/bin/python" ] &&
    "$1/bin/python" - "$TORCH_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
ok = m.version("torch").split("+")[0] == sys.argv[1]
m.version("numpy"); m.version("safetensors")
sys.exit(0 if ok else 1)
PY
}

# The EXTRAS a Python lacks (or has older than named), one per line.
missing_extras() {
  "$1" - "${EXTRAS[@]}" <<'PY' 2>/dev/null || printf '%s\n' "${EXTRAS[@]}"
import re, sys, importlib.metadata as m
def parts(v): return [int(p) for p in re.findall(r"\d+", v)[:2]]
for spec in sys.argv[1:]:
    name, low = spec.split(">=")
    dist = "distributed" if name.startswith("dask") else name
    try:
        ok = parts(m.version(dist)) >= parts(low)
    except m.PackageNotFoundError:
        ok = False
    if not ok:
        print(spec)
PY
}

install_venv() { # under the lock: another checkout may have finished meanwhile
  if venv_ready "$1"; then
    say "torch $TORCH_VERSION already in $1"
    local missing=() line
    while IFS= read -r line; do missing+=("$line"); done < <(missing_extras "$1/bin/python")
    [ "${#missing[@]}" -eq 0 ] && return 0
    # A venv from before setup installed these: add them alone (seconds, not the 4.6 GB again).
    say "adding ${missing[*]} to $1"
    "$1/bin/python" -m pip install --quiet "${missing[@]}" ||
      die "pip could not install ${missing[*]} into $1; check that PyPI is reachable"
    return 0
  fi
  say "installing torch==$TORCH_VERSION into $1 (about 4.6 GB, once per machine)"
  # A venv left without a working pip (an interrupted first run) is made again, but never a
  # folder that is not a venv of ours (BIGRAM_VENV pointing at a system prefix, say).
  if ! "$1/bin/python" -m pip --version >/dev/null 2>&1; then
    if [ -e "$1" ] && [ ! -f "$1/pyvenv.cfg" ]; then
      die "$1 exists and is not a Python venv; point BIGRAM_VENV at a new folder or at a venv"
    fi
    "${BIGRAM_BASE_PYTHON:-python3}" -m venv --clear "$1" ||
      die "${BIGRAM_BASE_PYTHON:-python3} could not create a virtual environment at $1; install Python 3 with venv (Debian: python3-venv), or set BIGRAM_BASE_PYTHON"
  fi
  "$1/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" numpy safetensors "${EXTRAS[@]}" ||
    die "pip could not install torch==$TORCH_VERSION into $1; check that PyPI is reachable, or point LIBTORCH or BIGRAM_PYTHON at a torch $TORCH_VERSION you have"
}

libtorch="" python=""
if [ -n "${LIBTORCH:-}" ]; then
  libtorch=$(cd "$LIBTORCH" 2>/dev/null && pwd) || die "LIBTORCH=$LIBTORCH is not a folder"
  need_version "$(folder_version "$libtorch")" "LIBTORCH=$LIBTORCH"
  if [ -n "${BIGRAM_PYTHON:-}" ]; then
    python=$BIGRAM_PYTHON
  elif [ -x "$libtorch/../../../../bin/python" ]; then # a venv's lib/pythonX.Y/site-packages/torch
    candidate=$(cd "$libtorch/../../../../bin" && pwd)/python
    # Only the Python whose torch is this very folder.
    probe_torch "$candidate"
    [ "$(printf '%s' "$torch_found" | cut -f2)" = "$libtorch" ] && python=$candidate
  fi
  say "using LIBTORCH=$libtorch (installing nothing)"
elif [ "${LIBTORCH_USE_PYTORCH:-}" = 1 ] || [ -n "${BIGRAM_PYTHON:-}" ]; then
  python=${BIGRAM_PYTHON:-python3}
  probe_torch "$python"
  found=$torch_found
  [ -n "$found" ] || die "$python has no torch; install torch==$TORCH_VERSION there, or unset LIBTORCH_USE_PYTORCH and BIGRAM_PYTHON to let setup install it"
  need_version "${found%%$'\t'*}" "the torch of $python"
  libtorch=${found#*$'\t'}
  say "using the torch of $python (installing nothing)"
else
  venv=${BIGRAM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bigram/torch-$TORCH_VERSION-venv}
  mkdir -p "$(dirname "$venv")"
  # Checked and installed under a lock: two checkouts set up at once share one venv.
  with_lock "$venv" install_venv "$venv"
  python=$venv/bin/python
  probe_torch "$python"
  found=$torch_found
  [ -n "$found" ] || die "$python cannot import torch; remove $venv and run setup again"
  libtorch=${found#*$'\t'}
fi
[ -f "$libtorch/lib/libtorch.so" ] || [ -f "$libtorch/lib/libtorch.dylib" ] ||
  die "no libtorch.so or libtorch.dylib under $libtorch/lib"
if [ -n "$python" ] && { probe_torch "$python"; [ -z "$torch_found" ]; }; then
  say "warning: $python has no torch, so it is not recorded: parity and the tests that run the PyTorch references need a Python with torch $TORCH_VERSION, numpy and safetensors (BIGRAM_PYTHON)"
  python=""
elif [ -z "$python" ]; then
  say "no Python with torch $TORCH_VERSION is known: parity and the tests that run the PyTorch references need one (set BIGRAM_PYTHON and run setup again)"
else
  # Only a Python of the caller's lacks them (setup's own venv got them above): install nothing there.
  missing=()
  while IFS= read -r line; do missing+=("$line"); done < <(missing_extras "$python")
  if [ "${#missing[@]}" -gt 0 ]; then
    say "warning: $python lacks ${missing[*]}, which tests need (the Dask driver's, --tensorboard's, --ipynb's); install with: $python -m pip install $(printf "'%s' " "${missing[@]}")"
  fi
fi

# --- cargo finds libtorch with nothing exported -----------------------------------------------
# Plain values: a variable of the same name in the caller's environment still wins.
mkdir -p .cargo
config=.cargo/config.toml
{
  echo "# Written by scripts/setup.sh for this machine; not committed."
  echo "[env]"
  echo "LIBTORCH = \"$libtorch\""
  [ -z "$python" ] || echo "BIGRAM_PYTHON = \"$python\""
} >"$config.tmp"
if cmp -s "$config.tmp" "$config" 2>/dev/null; then
  rm "$config.tmp"
else
  mv "$config.tmp" "$config"
  say "wrote $config (LIBTORCH=$libtorch)"
fi

# --- data/names.txt ---------------------------------------------------------------------------
names=data/names.txt
if [ -f "$names" ] && [ "$(sha256_of "$names")" = "$NAMES_SHA256" ]; then
  say "$names present, checksum verified"
else
  tmp=$(mktemp "data/.names.XXXXXX")
  cleanup+=("$tmp")
  if [ -n "${BIGRAM_NAMES:-}" ]; then
    [ -f "$BIGRAM_NAMES" ] || die "BIGRAM_NAMES=$BIGRAM_NAMES is not a file"
    cp "$BIGRAM_NAMES" "$tmp"
    from=$BIGRAM_NAMES
  else
    say "downloading names.txt from $NAMES_URL"
    curl -fsSL --retry 2 -o "$tmp" "$NAMES_URL" ||
      die "could not download $NAMES_URL. Get names.txt (makemore repository) some other way and run: BIGRAM_NAMES=/path/to/names.txt scripts/setup.sh"
    from=$NAMES_URL
  fi
  [ "$(sha256_of "$tmp")" = "$NAMES_SHA256" ] ||
    die "$from has the wrong sha256 (want $NAMES_SHA256); it is not makemore's names.txt"
  mv "$tmp" "$names"
  say "placed $names (from $from), checksum verified"
fi

if [ "${1:-}" = "--print-python" ]; then
  [ -n "$python" ] || die "no Python with torch $TORCH_VERSION is known; set BIGRAM_PYTHON"
  printf '%s\n' "$python"
fi
