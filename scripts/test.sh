#!/usr/bin/env bash
# Install what is needed and run every check: format, lint, types, the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,ofx]'

# Browser tests of Billfold Connect drive Debian's Chromium (Playwright's own download is not used).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "== installing chromium (for the widget's browser tests)"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "== chromium is missing and this is not root: the widget's browser tests will skip"
  fi
fi

echo "== ruff format --check" && .venv/bin/ruff format --check src tests bench
echo "== ruff check" && .venv/bin/ruff check src tests bench
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/python -m pytest -q "$@"
