"""Contracts: versioned templates, the loan contract of an approved application, and its two signatures."""
