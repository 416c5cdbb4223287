"""The native REST API, `/v1`."""

from __future__ import annotations
