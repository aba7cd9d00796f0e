#!/usr/bin/env bash
# The web console in real browsers (node's test runner), against the ecsd binary, with the
# official Node SDK as the user's automation: Debian's chromium driven by playwright-core
# (console.test.js), and Debian's firefox-esr over WebDriver BiDi by puppeteer-core
# (firefox.test.js). Installs what it needs: the browsers with apt when missing (CI runs as root
# on a fresh machine; the drivers' own browser downloads cannot work here), and the pinned npm
# packages into target/browser. Screenshots of each view go to target/console-screenshots/.
#
#   ECSD_BIN  the ecsd binary (default: <repo>/target/debug/ecsd; this script builds nothing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${ECSD_BIN:-$repo/target/debug/ecsd}"
[[ -x "$bin" ]] || { echo "tests/browser/run.sh: no ecsd binary at $bin; build it first" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "tests/browser/run.sh: needs node and npm" >&2; exit 2; }

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/firefox-esr ]] || missing+=(firefox-esr)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "tests/browser/run.sh: installing Debian's ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Pinned: the browser driver, and the Node SDK at the versions README.md installs.
packages=(playwright-core@1.65.1 puppeteer-core@25.16.0 @huaweicloud/huaweicloud-sdk-core@3.1.211 @huaweicloud/huaweicloud-sdk-ecs@3.1.172
  uuid@9.0.1)
node_dir="$repo/target/browser"
stamp="$node_dir/.ecsd-packages"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "${packages[*]}" ]]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm install "${packages[@]}" --prefix "$node_dir" --no-audit --no-fund --loglevel=error)
  echo "${packages[*]}" >"$stamp"
fi

export NODE_PATH="$node_dir/node_modules" ECSD_BIN="$bin" ECSD_SCREENSHOTS="$repo/target/console-screenshots"
node --test --test-reporter=spec "$here/console.test.js" "$here/firefox.test.js"
