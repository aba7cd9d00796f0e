# Sourced by the Python-based test scripts (tests/sdk/run.sh, tests/plugin/run.sh,
# tests/fuzz/schemathesis.sh).
#
#   python_env VENV REQUIREMENTS
#
# Makes sure a Python environment at VENV has REQUIREMENTS installed, and sets `py` to the
# interpreter to run and `pip_target` to the arguments a further `pip install` needs. Needs
# only python3 (with pip) and the PyPI registry; requirements are reinstalled only when the
# file or the Python version changes. Preferred layout: a
# virtualenv. Fallback (a Debian python3 without the venv module): pip --target into
# VENV/site, put on PYTHONPATH.

python_env() {
  local venv="$1" requirements="$2" python="${PYTHON:-python3}"
  command -v "$python" >/dev/null 2>&1 || { echo "'$python' not found; install Python 3.11+ or set PYTHON." >&2; return 2; }
  local want_hash stamp="$venv/.ecsd-requirements.sha256"
  want_hash="$( (cat "$requirements"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

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
    echo "'$python -m venv' is unavailable; installing with pip --target into $venv/site" >&2
  fi

  pip_target=()
  if [[ -d "$venv/site" && ! -x "$venv/bin/python" ]]; then
    export PYTHONPATH="$venv/site${PYTHONPATH:+:$PYTHONPATH}"
    pip_target=(--target "$venv/site" --upgrade)
  fi

  if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want_hash" ]]; then
    echo "installing $requirements into $venv" >&2
    "$py" -m pip install --quiet "${pip_target[@]}" -r "$requirements" || { echo "pip install -r $requirements failed" >&2; return 2; }
    echo "$want_hash" > "$stamp"
  fi
}
