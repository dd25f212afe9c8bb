#!/usr/bin/env bash
# Prepare a checkout of bigram: a shared PyTorch 2.13.0 virtual environment (libtorch for tch,
# and the Python reference), cargo's pointer to it, and data/names.txt.
# Idempotent: a second run only checks what is already there (a few seconds).
set -euo pipefail

TORCH_VERSION=2.13.0
NAMES_SHA256=0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d
NAMES_URL=https://raw.githubusercontent.com/karpathy/makemore/master/names.txt

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- PyTorch, shared by every checkout on this machine -------------------------------------
venv=${BIGRAM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bigram/torch-$TORCH_VERSION-venv}
# The interpreter that creates the venv (not to be confused with BIGRAM_PYTHON, the venv's own
# python, which cargo passes to the binary and the tests).
base_python=${BIGRAM_BASE_PYTHON:-python3}
have_torch() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" - "$TORCH_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
ok = m.version("torch").split("+")[0] == sys.argv[1]
m.version("numpy"); m.version("safetensors")
sys.exit(0 if ok else 1)
PY
}
if have_torch; then
  say "torch $TORCH_VERSION already in $venv"
else
  say "installing torch==$TORCH_VERSION into $venv (about 4.6 GB, once per machine)"
  mkdir -p "$(dirname "$venv")"
  # Install under a lock so that two checkouts set up at once do not fight over one venv.
  exec 9>"$venv.lock"
  flock 9
  if ! have_torch; then
    # A venv left without a working pip (an interrupted first run) is made again.
    if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
      "$base_python" -m venv --clear "$venv" ||
        die "$base_python could not create a virtual environment at $venv; install Python 3 with venv (Debian: python3-venv), or set BIGRAM_BASE_PYTHON"
    fi
    "$venv/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" numpy safetensors ||
      die "pip could not install torch==$TORCH_VERSION into $venv; check that PyPI is reachable, or point BIGRAM_VENV at a venv that has it"
  fi
  flock -u 9
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
libtorch="$site/torch"
[ -f "$libtorch/lib/libtorch.so" ] || die "no libtorch.so under $libtorch/lib"

# --- cargo finds libtorch with nothing exported ---------------------------------------------
mkdir -p .cargo
cat > .cargo/config.toml.tmp <<TOML
# Written by scripts/setup.sh for this machine; not committed.
# force: these win over variables of the same name in the caller's environment.
[env]
LIBTORCH = { value = "$libtorch", force = true }
BIGRAM_PYTHON = { value = "$venv/bin/python", force = true }
TOML
if cmp -s .cargo/config.toml.tmp .cargo/config.toml 2>/dev/null; then
  rm .cargo/config.toml.tmp
else
  mv .cargo/config.toml.tmp .cargo/config.toml
  say "wrote .cargo/config.toml (LIBTORCH=$libtorch)"
fi

# --- data/names.txt ---------------------------------------------------------------------------
names=data/names.txt
sha_ok() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$NAMES_SHA256" ]; }
if [ -f "$names" ] && sha_ok "$names"; then
  say "$names present, checksum verified"
else
  tmp=$(mktemp "data/.names.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
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
  sha_ok "$tmp" ||
    die "$from has the wrong sha256 (want $NAMES_SHA256); it is not makemore's names.txt"
  mv "$tmp" "$names"
  trap - EXIT
  say "placed $names (from $from), checksum verified"
fi
