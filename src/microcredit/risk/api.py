"""Routes of risk (filled in with the API)."""

from __future__ import annotations

from fastapi import APIRouter

from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["risk"], route_class=UnitOfWorkRoute)
