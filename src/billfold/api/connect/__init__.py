"""Billfold Connect, the embeddable widget: token creation in `/v1`, the widget and its loader."""

from __future__ import annotations
