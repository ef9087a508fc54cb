"""The model registry's use cases: `lifecycle` (register, propose, approve, reject, retire) and `serving`."""

from __future__ import annotations

from microcredit.risk.registry.service import lifecycle, serving

__all__ = ["lifecycle", "serving"]
