#!/usr/bin/env bash
# Install what is needed and start Billfold on SQLite with a demo client and sandbox data.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/billfold serve --demo "$@"
