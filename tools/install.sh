#!/usr/bin/env bash
# Install qms-docs with everything it needs into .venv, then build the example QMS.
#
#   bash tools/install.sh            # install + build the site (the README's first command)
#   QMS_SKIP_BUILD=1 bash tools/install.sh   # install only
#
# System packages (graphviz for diagrams) come from apt-get where the machine has it;
# Python packages go into .venv from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
"$python" - <<'PY' || { echo "error: qms-docs needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing system packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
      $sudo apt-get update -q >/dev/null
      $sudo apt-get install -y -q "${missing[@]}" >/dev/null
    fi
  else
    echo "error: please install these system packages first: ${missing[*]}" >&2
    exit 2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
echo "Installed: $(.venv/bin/qms --version)" >&2

if [ -z "${QMS_SKIP_BUILD:-}" ]; then
  .venv/bin/qms build html
fi
