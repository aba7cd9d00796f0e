#!/usr/bin/env bash
# End-to-end tests of ecsd with the OpenStack tools: the `openstack` CLI
# (python-openstackclient) and openstacksdk, pinned, against the real binary through a
# clouds.yaml each test writes (Keystone password login, every endpoint from the catalog).
#
# Usage: tests/openstack/run.sh [extra pytest args...]
#
#   ECSD_BIN            the ecsd binary to test     (default: <repo>/target/debug/ecsd; this script builds nothing)
#   ECSD_OPENSTACK_VENV virtualenv to create/reuse  (default: <repo>/target/openstack-venv)
#   PYTHON              interpreter for the venv    (default: python3, 3.10 or newer)
#
# Needs only python3 (with pip) and the PyPI registry.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ECSD_OPENSTACK_VENV:-$repo/target/openstack-venv}"
bin="${ECSD_BIN:-$repo/target/debug/ecsd}"
requirements="$here/requirements.txt"

die() { echo "tests/openstack/run.sh: $*" >&2; exit 2; }

case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
[[ -f "$bin" && -x "$bin" ]] || die "ecsd binary not found or not executable at '$bin'. Build it first ('cargo build' in $repo) or point ECSD_BIN at it."

# shellcheck source=../python-env.sh
source "$here/../python-env.sh"
python_env "$venv" "$requirements" || die "could not set up the Python environment at $venv"

export ECSD_BIN="$bin"
export PYTHONDONTWRITEBYTECODE=1
# The CLI is the venv's `openstack` script (or, with the pip --target fallback, its module).
if [[ -x "$venv/bin/openstack" ]]; then
  export ECSD_OPENSTACK_CLI="$venv/bin/openstack"
fi
cd "$repo"
exec "$py" -m pytest -q -p no:cacheprovider tests/openstack "$@"
