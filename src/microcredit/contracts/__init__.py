"""Contracts: versioned templates, the loan contract of an approved application, the borrower's and the institution's signatures."""
