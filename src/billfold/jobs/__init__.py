"""Running connector sessions in the background: protocols, embedded backend, runner."""

from __future__ import annotations
