"""Use cases of the close of business: `runs` (start, execute, retry, reads), `steps` (the registry) and
`standing` (what the last run found of a loan), `schedule` (the nightly run at a configured time)."""

from microcredit.cob.service import runs, schedule, standing, steps
from microcredit.cob.service.steps import CobKit, Step, register

__all__ = ["CobKit", "Step", "register", "runs", "schedule", "standing", "steps"]
