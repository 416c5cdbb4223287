"""Outbound webhooks: sending signed HTTP deliveries."""

from __future__ import annotations
