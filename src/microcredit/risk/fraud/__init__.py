"""Fraud detection of risk (issue 19 §4): identifier graph and rings, the anomaly model, the fraud check of the
automated review, and the investigator's queue (docs/risk.md, section "Fraud")."""
