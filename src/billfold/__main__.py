"""`python -m billfold` runs the CLI."""

from __future__ import annotations

from billfold.cli.main import app

app()
