"""Origination: loan applications from the draft through the automated decision (docs/origination.md)."""
