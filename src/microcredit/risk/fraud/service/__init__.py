"""Use cases of fraud detection (services flush; the boundary commits).

`detection`: the signals of one application for the review (`gather`), the anomaly model, the batch scan;
`cases`: the investigator's queue, notes, verdicts and labels; `training`: the anomaly model trained from the
institution's own applications.
"""

from microcredit.risk.fraud.service import cases, detection, training
from microcredit.risk.fraud.service.detection import Gathered, ScanReport, gather, scan

__all__ = ["Gathered", "ScanReport", "cases", "detection", "gather", "scan", "training"]
