#!/usr/bin/env bash
# The main job in one command: AG2 agents as separate traced processes, and their one trace as a tree.
#
#   bash examples/demo.sh                     # the group chat (orchestrator + two A2A agent servers)
#   bash examples/demo.sh --example client    # the two-process client -> server example
#   bash examples/demo.sh --example v1        # the same system on AG2 1.x (orchestrator + two A2A agents)
#   bash examples/demo.sh --example mixed     # a 1.x orchestrator calling a classic and a 1.x A2A agent
#   bash examples/demo.sh --help              # every option of examples/demo.py
#   bash examples/demo.sh --serve             # a key-free back end for your own app (examples/local_backend.py)
#
# Creates a virtualenv (.venv-demo at the repository root, or $DEMO_VENV) on first use, installs the project
# with its demo dependencies there, then runs examples/demo.py with the arguments given. The v1 and mixed
# examples also need AG2 1.x, which cannot share an environment with the classic line: for them a second
# virtualenv (.venv-demo-v1, or $DEMO_VENV_V1) is created the same way, and passed to demo.py.
# $DEMO_PYTHON picks the Python that creates the virtualenvs (default: python3, 3.10 or newer).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DEMO_VENV:-$root/.venv-demo}"
python="${DEMO_PYTHON:-python3}"
requirements=(-e "${root}[demo]" "autogen[openai,a2a]==0.14.1" "a2a-sdk[http-server]==1.3.0")
venv_v1="${DEMO_VENV_V1:-$root/.venv-demo-v1}"
requirements_v1=(-e "${root}[demo]" "ag2[openai,a2a]==1.2.1" "a2a-sdk[http-server]==1.3.0")

fail() {
  echo "demo.sh: $*" >&2
  exit 1
}

# create_venv VENV [WHAT]
create_venv() {
  local venv="$1"
  command -v "$python" >/dev/null 2>&1 || fail "$python not found: install Python 3.10+ or set DEMO_PYTHON"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    fail "$("$python" --version 2>&1) is too old: Python 3.10+ is needed (set DEMO_PYTHON to another one)"
  echo "creating the demo virtualenv${2:+ ($2)} in $venv"
  "$python" -m venv "$venv" ||
    fail "could not create a virtualenv with $python (on Debian/Ubuntu: apt-get install python3-venv)"
  # an editable install of a hatchling project needs a recent pip
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check --upgrade pip ||
    fail "could not upgrade pip in $venv"
}

# pip shows its errors only (-qq). What was installed is recorded in a stamp file: later runs skip pip
# unless pyproject.toml (or the requirements) changed.
install_fingerprint() {
  { cat "$root/pyproject.toml"; printf '%s\n' "$@"; } | cksum
}

# install_requirements VENV REQUIREMENT...
install_requirements() {
  local venv="$1" stamp="$1/.demo-installed" fingerprint
  shift
  fingerprint="$(install_fingerprint "$@")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]]; then
    return
  fi
  echo "installing the project and the demo's dependencies into $venv (a minute or two, the first time)"
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check "$@" ||
    fail "installing the demo's dependencies failed (see pip's errors above)"
  echo "$fingerprint" >"$stamp"
}

# the example asked for (--example NAME or --example=NAME; the last one wins, as in demo.py)
example=""
previous=""
for argument in "$@"; do
  [[ "$previous" == "--example" ]] && example="$argument"
  [[ "$argument" == --example=* ]] && example="${argument#--example=}"
  previous="$argument"
done

[[ -x "$venv/bin/python" ]] || create_venv "$venv"
install_requirements "$venv" "${requirements[@]}"
if [[ "${1:-}" == "--serve" ]]; then
  shift
  exec "$venv/bin/python" "$root/examples/local_backend.py" "$@"
fi
if [[ "$example" == "v1" || "$example" == "mixed" ]]; then
  if [[ ! -x "$venv_v1/bin/python" ]]; then
    create_venv "$venv_v1" "AG2 1.x"
    [[ -e "$venv_v1/.gitignore" ]] || echo '*' >"$venv_v1/.gitignore" # as Python 3.13's venv does: git ignores it
  fi
  install_requirements "$venv_v1" "${requirements_v1[@]}"
  export DEMO_VENV_V1="$venv_v1"
fi
export DEMO_LAUNCHER="bash examples/demo.sh" # the command the demo's closing hint repeats
exec "$venv/bin/python" "$root/examples/demo.py" "$@"
