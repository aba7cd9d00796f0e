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
requirements="$here/requirements.txt"

die() { echo "tests/sdk/run.sh: $*" >&2; exit 2; }

case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
[[ -f "$bin" && -x "$bin" ]] || die "ecsd binary not found or not executable at '$bin'. Build it first ('cargo build' in $repo) or point ECSD_BIN at it."

# shellcheck source=../python-env.sh
source "$here/../python-env.sh"
python_env "$venv" "$requirements" || die "could not set up the Python environment at $venv"

export ECSD_BIN="$bin"
export PYTHONDONTWRITEBYTECODE=1
cd "$repo"
exec "$py" -m pytest -q tests/sdk "$@"
