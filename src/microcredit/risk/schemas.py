"""API shapes of risk (filled in with the routes)."""

from __future__ import annotations
