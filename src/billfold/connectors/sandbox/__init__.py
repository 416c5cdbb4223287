"""Sandbox institutions with scripted logins and generated data, for trying Billfold end to end.

Use `SandboxConnector()` as the `sandbox` connector; `SANDBOX_INSTITUTIONS` is
its catalog and `SANDBOX_GUIDE` lists every test login and what it does.
"""

from __future__ import annotations

from billfold.connectors.sandbox.catalog import (
    SANDBOX_GUIDE,
    SANDBOX_INSTITUTIONS,
    GuideRow,
    Profile,
    profile_of,
    sandbox_institution,
)
from billfold.connectors.sandbox.connector import SandboxConnector

__all__ = [
    "SANDBOX_GUIDE",
    "SANDBOX_INSTITUTIONS",
    "GuideRow",
    "Profile",
    "SandboxConnector",
    "profile_of",
    "sandbox_institution",
]
