#!/usr/bin/env bash
# The examples of README.md and docs/testing.md, run as written against the real binary, so
# they stay true: every ```sh block (unless marked `<!-- not run: why -->`), and the Python,
# pytest and Node.js blocks marked `<!-- run: python|pytest|node -->` (tests/examples/extract.py).
# The one change: the default address 127.0.0.1:8774 becomes a free port (ECSD_LISTEN and
# ECSD_ENDPOINT are set to it), so a run never meets an ecsd already on 8774.
#
# `ecsd` is the freshly built binary, first on PATH, as `cargo install --path .` would put it.
# Python packages come from tests/plugin/requirements.txt (pinned) and the plugin itself, into a
# virtualenv under target/; the Node SDK is installed with npm into target/examples-node, from
# the `npm install` line of README.md.
#
#   ECSD_BIN            the ecsd binary       (default: <repo>/target/debug/ecsd; this script builds nothing)
#   ECSD_EXAMPLES_VENV  virtualenv to use     (default: <repo>/target/examples-venv)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ECSD_EXAMPLES_VENV:-$repo/target/examples-venv}"
bin="${ECSD_BIN:-$repo/target/debug/ecsd}"
[[ -x "$bin" ]] || { echo "tests/examples/run.sh: no ecsd binary at $bin; build it first" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "tests/examples/run.sh: needs node and npm" >&2; exit 2; }

# shellcheck source=../python-env.sh
source "$here/../python-env.sh"
python_env "$venv" "$repo/tests/plugin/requirements.txt" || exit 2
"$py" -m pip install --quiet --no-deps --force-reinstall "${pip_target[@]}" "$repo/python/pytest-ecsd"
if [[ -x "$venv/bin/python" ]]; then export PATH="$venv/bin:$PATH"; fi

node_dir="$repo/target/examples-node"
npm_line="$(grep -m1 '^npm install @huaweicloud/' "$repo/README.md")"
[[ -n "$npm_line" ]] || { echo "tests/examples/run.sh: README.md has no 'npm install @huaweicloud/...' line" >&2; exit 2; }
stamp="$node_dir/.ecsd-npm-line"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$npm_line" ]]; then
  mkdir -p "$node_dir"
  # The README's own line, into target/ instead of the working dir.
  read -ra npm_args <<<"${npm_line#npm }"
  (cd "$node_dir" && npm "${npm_args[@]}" --prefix "$node_dir" --no-audit --no-fund --loglevel=error)
  echo "$npm_line" >"$stamp"
fi

mkdir -p "$repo/target"
bin_dir="$(mktemp -d "$repo/target/examples-bin.XXXXXX")"
work="$(mktemp -d "${TMPDIR:-/tmp}/ecsd-examples.XXXXXX")"
ln -s "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" "$bin_dir/ecsd"
export PATH="$bin_dir:$PATH" ECSD_BIN="$bin_dir/ecsd" PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export ECSD_LISTEN="127.0.0.1:$port" ECSD_ENDPOINT="http://127.0.0.1:$port"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
unset ECSD_ACCESS_KEY ECSD_SECRET_KEY ECSD_PROJECT_ID ECSD_DATA_DIR ECSD_CONFIG ECSD_NO_AUTH ECSD_FIXTURES

group=""
cleanup() {
  [[ -z "$group" ]] || kill -- "-$group" 2>/dev/null || true
  rm -rf "$bin_dir" "$work"
}
trap cleanup EXIT

# Runs a command in its own process group, so whatever it leaves running is stopped after it.
in_group() {
  setsid "$@" &
  group=$!
  local status=0
  wait "$group" || status=$?
  kill -- "-$group" 2>/dev/null || true
  group=""
  return "$status"
}

wait_healthy() {
  for _ in $(seq 1 100); do
    ecsd ctl health >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "ecsd did not answer on $ECSD_ENDPOINT" >&2
  return 1
}

ran=0
for page in README.md docs/testing.md; do
  dir="$work/$(basename "$page" .md)"
  mkdir -p "$dir"
  files="$("$py" "$here/extract.py" "$repo/$page" "$dir")"
  shell_blocks="$(awk '$1 == "sh" {print $3}' <<<"$files")"
  echo "== $page: $shell_blocks shell blocks"
  (cd "$dir" && in_group bash commands.sh)
  ran=$((ran + shell_blocks))
  # The Node and Python blocks talk to an ecsd the reader started (`ecsd serve`), in this dir.
  if grep -qv '^sh ' <<<"$files"; then
    rm -rf "$dir/ecsd-data"
    (cd "$dir" && exec ecsd serve --timings instant >"$dir/serve.log" 2>&1) &
    server=$!
    (cd "$dir" && wait_healthy)
    while read -r kind name _; do
      [[ "$kind" != sh ]] || continue
      echo "== $page: $kind block $name"
      case "$kind" in
        node)
          (cd "$dir" && printf '{"servers": [{"name": "web", "count": 3}]}' >fleet.json && ecsd ctl fixtures fleet.json >/dev/null 2>&1)
          (cd "$dir" && NODE_PATH="$node_dir/node_modules" node "$name") ;;
        python) (cd "$dir" && "$py" "$name") ;;
        pytest) (cd "$dir" && "$py" -m pytest -q -p no:cacheprovider "$name") ;;
      esac
      ran=$((ran + 1))
    done <<<"$files"
    kill "$server"
    wait "$server" || true
  fi
done
echo "examples: $ran passed, 0 failed"
