#!/usr/bin/env bash
# Install what is needed and run every check: format, lint, types, the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

echo "== ruff format --check" && .venv/bin/ruff format --check src tests bench
echo "== ruff check" && .venv/bin/ruff check src tests bench
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/python -m pytest -q "$@"
