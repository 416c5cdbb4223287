"""The vocabulary and rules of Billfold: pure types, no I/O, no HTTP, no SQL."""

from __future__ import annotations
