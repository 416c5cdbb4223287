"""SimpleFIN: read accounts and transactions through the public SimpleFIN protocol.

A person pastes a setup token from their SimpleFIN server (SimpleFIN Bridge or any
other); the connector claims it once for an access URL, keeps that URL only in the
connection's encrypted checkpoint, and reads `/accounts` in date windows.
"""

from __future__ import annotations

from billfold.connectors.simplefin.client import AccessUrl, AccountSet, SimpleFinClient
from billfold.connectors.simplefin.connector import (
    SIMPLEFIN_INSTITUTION,
    SimpleFinConnector,
)

__all__ = [
    "SIMPLEFIN_INSTITUTION",
    "AccessUrl",
    "AccountSet",
    "SimpleFinClient",
    "SimpleFinConnector",
]
