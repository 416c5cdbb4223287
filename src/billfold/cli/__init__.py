"""The `billfold` command."""

from __future__ import annotations
