"""Use cases of servicing (services flush; the boundary commits).

`loans`: opening a loan from an approved application, recording its events (disbursement,
repayment, prepayment, reversal) with their postings in the same transaction, bringing its
books to a later business date, its state, and the sub-ledger the ledger's verification
compares with the control accounts. `changes`: waivers, deferrals, reschedulings, write-offs, refunds
of credit and branch repayments above the threshold by maker-checker; `settings`: that threshold;
`receipts`: the PDF receipt or voucher of a money movement. `payments`: money through the payment
provider (payouts, online repayments, auto-debit, callbacks, reconciliation). `groups`: group loans
linked through their group's applications, and the group statement;
`collection_sheets`: a group meeting's collection sheet, read and saved. `history`: what risk reads of the
loans (an applicant's repayment history, the outcomes of loans paid out), through risk's read interfaces.
`quiet`: the quiet loans' day set-based (only an accrual).
`servicing.books` (pure) says which entries a change posts.
"""

from microcredit.servicing.service import (
    changes,
    collection_sheets,
    groups,
    guarantors,
    history,
    loans,
    payments,
    quiet,
    receipts,
    settings,
)

__all__ = ["changes", "collection_sheets", "groups", "guarantors", "history", "loans", "payments", "quiet", "receipts",
           "settings"]
