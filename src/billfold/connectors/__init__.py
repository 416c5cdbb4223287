"""Connectors: plugins that turn a login into accounts and transactions."""

from __future__ import annotations

from billfold.connectors.base import Connector, Credentials, Session, SyncRequest

__all__ = ["Connector", "Credentials", "Session", "SyncRequest"]
