"""Use cases of the ledger (services flush; the boundary commits).

Split along the domain's seams: `accounts` (the chart: seeding, creating, renaming,
closing), `posting` (entries and reversals: what other domains call inside their own
transaction), `periods` (close and reopen), `reports` (trial balance, statements,
general ledger) and `books` (verify and the beancount export).
"""

from microcredit.ledger.balances import Posting, Side
from microcredit.ledger.chart import DEFAULT_POSTING_MAP, PostingMap
from microcredit.ledger.service import accounts, books, periods, posting, reports
from microcredit.ledger.service.posting import MANUAL, Source, post, reverse

__all__ = ["DEFAULT_POSTING_MAP", "MANUAL", "Posting", "PostingMap", "Side", "Source", "accounts", "books",
           "periods", "post", "posting", "reports", "reverse"]
