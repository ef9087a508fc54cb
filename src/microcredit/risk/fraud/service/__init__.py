"""Use cases of fraud detection (services flush; the boundary commits).

`detection`: the signals of one application for the review (`gather`), the anomaly model, the batch scan;
`cases`: the investigator's queue, notes, verdicts and labels.
"""

from microcredit.risk.fraud.service import cases, detection
from microcredit.risk.fraud.service.detection import Gathered, ScanReport, gather, scan

__all__ = ["Gathered", "ScanReport", "cases", "detection", "gather", "scan"]
