"""The ledger: the institution's double-entry books in the same database as the loans.

A chart of accounts per institution (seeded from `chart.DEFAULT_CHART`), journal
entries whose lines balance per currency (checked by the money type, the service
and the database), reversal by counter-entry, period close, trial balance,
statements and the general ledger, `ledger verify` and the beancount export
(docs/ledger.md).
"""
