#!/usr/bin/env bash
# The pytest-ecsd plugin's own tests (python/pytest-ecsd/tests), with the plugin installed into a
# virtualenv as a user installs it (pip install ./python/pytest-ecsd), against the real binary.
#
#   ECSD_BIN          the ecsd binary     (default: <repo>/target/debug/ecsd; this script builds nothing)
#   ECSD_PLUGIN_VENV  virtualenv to use   (default: <repo>/target/plugin-venv)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ECSD_PLUGIN_VENV:-$repo/target/plugin-venv}"
bin="${ECSD_BIN:-$repo/target/debug/ecsd}"
[[ -x "$bin" ]] || { echo "tests/plugin/run.sh: no ecsd binary at $bin; build it first" >&2; exit 2; }

# shellcheck source=../python-env.sh
source "$here/../python-env.sh"
python_env "$venv" "$here/requirements.txt" || exit 2
# The plugin itself is reinstalled every run: its sources are part of this repository.
"$py" -m pip install --quiet --no-deps --force-reinstall "${pip_target[@]}" "$repo/python/pytest-ecsd"

export ECSD_BIN="$bin" PYTHONDONTWRITEBYTECODE=1
cd "$repo"
exec "$py" -m pytest -q -p no:cacheprovider python/pytest-ecsd/tests "$@"
