#!/usr/bin/env bash
# Runs the moto side of the ecsd benchmark: installs moto[server] and boto3 into a venv under
# target/, then runs bench/moto_bench.py, which starts moto_server on 127.0.0.1:5000 itself
# (so it can time its cold start and read its RSS), runs the EC2 equivalents of the ecsd rows
# and writes JSON for `ecsd-bench --moto-json`.
#
#   bench/run-moto.sh [--quick] [--out target/bench/moto.json]
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/moto-venv
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import boto3, moto' 2>/dev/null; then
    echo "setting up $venv (moto[server], boto3)" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet 'moto[server]>=5,<6' 'boto3>=1.34'
fi

out=target/bench/moto.json
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
mkdir -p "$(dirname "$out")"
exec "$venv/bin/python" bench/moto_bench.py --moto-server "$venv/bin/moto_server" --out "$out" "${args[@]}"
