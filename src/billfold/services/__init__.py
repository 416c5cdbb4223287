"""Use cases. Every face (native API, dialects, widget, CLI) calls these functions.

Services are keyword-only functions taking a `ServiceContext`; they return domain
objects and raise domain errors. They know nothing about HTTP or SQL.
"""

from __future__ import annotations

from billfold.services.context import JobPolicy, ServiceContext

__all__ = ["JobPolicy", "ServiceContext"]
