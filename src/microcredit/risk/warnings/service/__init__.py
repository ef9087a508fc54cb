"""Use cases of early warning (services flush; the boundary commits).

`monitoring`: the close of business's part (the behaviour score and its history, the bureau refreshed,
the rules run, warnings raised and routed to the responsible staff); `handling`: the queue, a warning's
detail, an action proposed by one person and approved (applied) or dismissed by another;
`thresholds`: the institution's thresholds.
"""

from microcredit.risk.warnings.service import handling, monitoring, thresholds

__all__ = ["handling", "monitoring", "thresholds"]
