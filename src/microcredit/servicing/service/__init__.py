"""Use cases of servicing (services flush; the boundary commits).

`loans`: opening a loan from an approved application, recording its events (disbursement,
repayment, prepayment, reversal) with their postings in the same transaction, bringing its
books to a later business date, its state, and the sub-ledger the ledger's verification
compares with the control accounts. `changes`: waivers, deferrals, reschedulings and write-offs by
maker-checker. `payments`: money through the payment provider (payouts, online repayments,
auto-debit, callbacks, reconciliation). `servicing.books` (pure) says which entries a change posts.
"""

from microcredit.servicing.service import changes, loans, payments

__all__ = ["changes", "loans", "payments"]
