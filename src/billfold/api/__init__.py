"""HTTP faces of Billfold: one package per face, all calling the same services."""

from __future__ import annotations
