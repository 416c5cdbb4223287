"""Billfold: one consistent API for end users' financial and billing data."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
