#!/usr/bin/env bash
# Install qms-docs with everything it needs into .venv, then build the example QMS.
#
#   bash tools/install.sh            # install + build the site (the README's first command)
#   QMS_SKIP_BUILD=1 bash tools/install.sh   # install only
#
# System packages (graphviz, pango, fonts, chromium) come from apt-get where the machine
# has it; Python packages go into .venv from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
"$python" - <<'PY' || { echo "error: qms-docs needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

apt_install() {
  # Install Debian packages (through sudo when not root); refresh the index only if needed.
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: please install these system packages first: $*" >&2
    exit 2
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing system packages: $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null
  fi
}

# graphviz: diagrams; pango: WeasyPrint's PDFs; chromium: the browser tests of the site;
# ssh-keygen: signed approvals.
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
if ((${#missing[@]})); then
  apt_install "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# all: the PDF and xlsx stack and pandoc for qms import (the core alone checks, verifies
# and builds the site);
# test: pytest, ruff and mypy
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[all,test]"
echo "Installed: $(.venv/bin/qms --version)" >&2

if [ -z "${QMS_SKIP_BUILD:-}" ]; then
  .venv/bin/qms build html
fi
