#!/usr/bin/env bash
# The main job in one command: AG2 agents as separate traced processes, and their one trace as a tree.
#
#   bash examples/demo.sh                     # the group chat (orchestrator + two A2A agent servers)
#   bash examples/demo.sh --example client    # the two-process client -> server example
#   bash examples/demo.sh --help              # every option of examples/demo.py
#
# Creates a virtualenv (.venv-demo at the repository root, or $DEMO_VENV) on first use, installs the project
# with its demo dependencies there, then runs examples/demo.py with the arguments given.
# $DEMO_PYTHON picks the Python that creates the virtualenv (default: python3, 3.10 or newer).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DEMO_VENV:-$root/.venv-demo}"
python="${DEMO_PYTHON:-python3}"
requirements=(-e "${root}[demo]" "ag2[openai,a2a]==0.14.0" "a2a-sdk[http-server]==1.3.0")

fail() {
  echo "demo.sh: $*" >&2
  exit 1
}

create_venv() {
  command -v "$python" >/dev/null 2>&1 || fail "$python not found: install Python 3.10+ or set DEMO_PYTHON"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    fail "$("$python" --version 2>&1) is too old: Python 3.10+ is needed (set DEMO_PYTHON to another one)"
  echo "creating the demo virtualenv in $venv"
  "$python" -m venv "$venv" ||
    fail "could not create a virtualenv with $python (on Debian/Ubuntu: apt-get install python3-venv)"
  # an editable install of a hatchling project needs a recent pip
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check --upgrade pip ||
    fail "could not upgrade pip in $venv"
}

# pip shows its errors only (-qq). What was installed is recorded in a stamp file: later runs skip pip
# unless pyproject.toml (or the requirements above) changed.
install_fingerprint() {
  { cat "$root/pyproject.toml"; printf '%s\n' "${requirements[@]}"; } | cksum
}

install_requirements() {
  local stamp="$venv/.demo-installed" fingerprint
  fingerprint="$(install_fingerprint)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]]; then
    return
  fi
  echo "installing the project and the demo's dependencies into $venv (a minute or two, the first time)"
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check "${requirements[@]}" ||
    fail "installing the demo's dependencies failed (see pip's errors above)"
  echo "$fingerprint" >"$stamp"
}

[[ -x "$venv/bin/python" ]] || create_venv
install_requirements
exec "$venv/bin/python" "$root/examples/demo.py" "$@"
