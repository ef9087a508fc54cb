"""Use cases of the close of business: `runs` (start, execute, retry, reads) and `steps` (the registry)."""

from microcredit.cob.service import runs, steps
from microcredit.cob.service.steps import CobKit, Step, register

__all__ = ["CobKit", "Step", "register", "runs", "steps"]
