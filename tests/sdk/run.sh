#!/usr/bin/env bash
# End-to-end tests of ecsd with the official Huawei Cloud Python SDK.
#
# Usage: tests/sdk/run.sh [extra pytest args...]
#
#   ECSD_BIN       the ecsd binary to test     (default: <repo>/target/debug/ecsd; this script builds nothing)
#   ECSD_SDK_VENV  virtualenv to create/reuse  (default: <repo>/target/sdk-venv)
#   PYTHON         interpreter for the venv    (default: python3, 3.11 or newer)
#
# Needs only python3 (with pip) and the PyPI registry. Requirements are installed once and
# reinstalled only when tests/sdk/requirements.txt changes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ECSD_SDK_VENV:-$repo/target/sdk-venv}"
bin="${ECSD_BIN:-$repo/target/debug/ecsd}"
python="${PYTHON:-python3}"
requirements="$here/requirements.txt"

die() { echo "tests/sdk/run.sh: $*" >&2; exit 2; }

case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
[[ -f "$bin" && -x "$bin" ]] || die "ecsd binary not found or not executable at '$bin'. Build it first ('cargo build' in $repo) or point ECSD_BIN at it."
command -v "$python" >/dev/null 2>&1 || die "'$python' not found; install Python 3.11+ or set PYTHON."

want_hash="$( (cat "$requirements"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
stamp="$venv/.ecsd-requirements.sha256"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

# Preferred layout: a virtualenv. Fallback (a Debian python3 without the venv module):
# plain pip --target into "$venv/site", put on PYTHONPATH.
py=""
if [[ -x "$venv/bin/python" ]]; then
  py="$venv/bin/python"
elif [[ -d "$venv/site" ]]; then
  py="$python"
elif "$python" -m venv "$venv" >/dev/null 2>&1 && [[ -x "$venv/bin/python" ]]; then
  py="$venv/bin/python"
else
  rm -rf "$venv"
  mkdir -p "$venv/site"
  py="$python"
  echo "tests/sdk/run.sh: '$python -m venv' is unavailable; installing with pip --target into $venv/site" >&2
fi

if [[ -d "$venv/site" && ! -x "$venv/bin/python" ]]; then
  export PYTHONPATH="$venv/site${PYTHONPATH:+:$PYTHONPATH}"
  pip_target=(--target "$venv/site" --upgrade)
else
  pip_target=()
fi

if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want_hash" ]]; then
  echo "tests/sdk/run.sh: installing SDK test requirements into $venv" >&2
  "$py" -m pip install --quiet "${pip_target[@]}" -r "$requirements" \
    || die "pip install -r $requirements failed"
  echo "$want_hash" > "$stamp"
fi

export ECSD_BIN="$bin"
export PYTHONDONTWRITEBYTECODE=1
cd "$repo"
exec "$py" -m pytest -q tests/sdk "$@"
