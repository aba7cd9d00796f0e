#!/usr/bin/env bash
# Fuzzes the real ecsd binary with schemathesis, driven by the OpenAPI document it serves at
# /openapi.json, with every request signed by the official Huawei Cloud SDK signer
# (tests/fuzz/hooks.py). Fails on any 5xx answer, and on an answer that does not match the
# documented schema for its status.
#
# Usage: tests/fuzz/schemathesis.sh [extra schemathesis run args...]
#
#   ECSD_BIN            the ecsd binary to fuzz     (default: <repo>/target/debug/ecsd; this script builds nothing)
#   ECSD_FUZZ_VENV      virtualenv to create/reuse  (default: <repo>/target/fuzz-venv)
#   ECSD_FUZZ_EXAMPLES  examples per operation      (default: 50)
#   ECSD_FUZZ_SEED      hypothesis seed             (default: 1, so CI runs repeat; set "random" for a new one)
#   PYTHON              interpreter for the venv    (default: python3, 3.10 or newer)
#
# Needs only python3 (with pip) and the PyPI registry. Output (ecsd log, schemathesis reports,
# a JSON summary of every request by status) goes to <repo>/target/fuzz/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ECSD_FUZZ_VENV:-$repo/target/fuzz-venv}"
bin="${ECSD_BIN:-$repo/target/debug/ecsd}"
requirements="$here/requirements.txt"
examples="${ECSD_FUZZ_EXAMPLES:-50}"
seed="${ECSD_FUZZ_SEED:-1}"
out="$repo/target/fuzz"

die() { echo "tests/fuzz/schemathesis.sh: $*" >&2; exit 2; }

case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
[[ -f "$bin" && -x "$bin" ]] || die "ecsd binary not found or not executable at '$bin'. Build it first ('cargo build' in $repo) or point ECSD_BIN at it."

# shellcheck source=../python-env.sh
source "$here/../python-env.sh"
python_env "$venv" "$requirements" || die "could not set up the Python environment at $venv"

# A fresh ecsd on a free loopback port, with a known credential.
rm -rf "$out"
mkdir -p "$out"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/ecsd-fuzz.XXXXXX")"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export ECSD_ACCESS_KEY="AKFUZZ$("$py" -c 'import secrets, string; print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(14)))')"
export ECSD_SECRET_KEY="$("$py" -c 'import secrets; print(secrets.token_hex(20))')"
export ECSD_PROJECT_ID="$("$py" -c 'import uuid; print(uuid.uuid4().hex)')"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
base="http://127.0.0.1:$port"

NO_COLOR=1 "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data_dir" --timings instant \
  >"$out/ecsd.log" 2>&1 &
ecsd_pid=$!
cleanup() {
  kill "$ecsd_pid" 2>/dev/null || true
  wait "$ecsd_pid" 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if "$py" -c "import urllib.request, sys; urllib.request.urlopen('$base/openapi.json', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$ecsd_pid" 2>/dev/null || { cat "$out/ecsd.log" >&2; die "ecsd exited at start"; }
  sleep 0.1
done

seed_args=()
[[ "$seed" == "random" ]] || seed_args=(--seed "$seed")

echo "tests/fuzz/schemathesis.sh: fuzzing $base ($examples examples per operation)" >&2
export SCHEMATHESIS_HOOKS="$here/hooks.py"
export ECSD_FUZZ_SUMMARY="$out/summary.json" ECSD_FUZZ_BASE="$base"
[[ "$seed" == "random" ]] && export ECSD_FUZZ_SEED_NUMBER="$RANDOM" || export ECSD_FUZZ_SEED_NUMBER="$seed"
export PYTHONDONTWRITEBYTECODE=1
set +e
(cd "$out" && "$py" -m schemathesis.cli run "$base/openapi.json" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" \
  "${seed_args[@]}" \
  --workers 1 \
  --request-timeout 10 \
  --no-color \
  --report junit --report-junit-path "$out/junit.xml" \
  "$@")
status=$?
set -e

# The summary the hooks wrote. Besides reporting, it guards the run itself: requests refused by
# the authentication layer mean the signing broke and the fuzzing tested nothing behind it.
set +e
"$py" - "$out/summary.json" "$out/junit.xml" <<'EOF'
import json, sys
import xml.etree.ElementTree as ElementTree
try:
    summary = json.load(open(sys.argv[1]))
except OSError:
    sys.exit("tests/fuzz/schemathesis.sh: no request summary was written")
server_errors = summary["server_errors"]
refused = summary["by_status"].get("401", 0)
print(f"ecsd fuzz: {summary['requests']} requests, by status {summary['by_status']}; "
      f"{len(server_errors)} server errors, {len(summary['network_errors'])} network errors")
for error in server_errors[:20]:
    print(f"  5xx: {error['request']} body={error['request_body']!r} -> {error['status']} {error['response']}")
if summary["requests"] == 0 or refused > summary["requests"] // 20:
    for operation, sample in summary["auth_refusals"].items():
        print(f"  401: {operation}: {sample['request']} -> {sample['response']}")
    sys.exit(f"tests/fuzz/schemathesis.sh: {refused} of {summary['requests']} requests were refused as unauthenticated")
# One line per run in the plain "N passed, N failed" form: API operations, as schemathesis
# judged them, with the 5xx answers counted as failures even if it did not.
try:
    suites = ElementTree.parse(sys.argv[2]).getroot()
    operations = int(suites.get("tests", "0"))
    failed = int(suites.get("failures", "0")) + int(suites.get("errors", "0"))
except (OSError, ElementTree.ParseError, ValueError):
    operations, failed = 0, 1
failed = max(failed, len({error["operation"] for error in server_errors}))
print(f"schemathesis: {operations - failed} passed, {failed} failed")
sys.exit(1 if server_errors or failed else 0)
EOF
summary_status=$?
set -e
[[ "$status" -ne 0 ]] || status=$summary_status

if ! kill -0 "$ecsd_pid" 2>/dev/null; then
  echo "tests/fuzz/schemathesis.sh: ecsd died during the run; its log:" >&2
  tail -50 "$out/ecsd.log" >&2
  exit 1
fi
exit "$status"
