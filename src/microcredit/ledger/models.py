"""Tables of the ledger: the chart of accounts, journal entries with their lines, and period closes.

The books are double-entry and append-only. An entry (`ledger_entries`) is a
dated, balanced group of lines (`ledger_lines`); its per-currency debit and
credit totals are written beside it (`ledger_entry_totals`) with a CHECK that
they are equal, and each line carries exactly one positive side (another
CHECK). Amounts are BIGINT minor units with the currency on the row (the book
may hold several currencies), read back as `Money(minor, currency)`.

What the database guarantees on its own, whoever writes: every totals row
balances; every line has one positive side; a reversal names an entry that
exists, and each entry is reversed at most once (UNIQUE on
`reverses_entry_id`); a source (`source_kind`, `source_ref`) posts at most one
entry per institution. What it does not: that an entry's lines add up to its
totals rows (a CHECK cannot see other rows portably) — the service writes both
from one list in one flush, and `microcredit ledger verify` recomputes them.
Nothing updates or deletes an entry, a line or a totals row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcredit.db.base import Base
from microcredit.db.types import BigIntPK, UTCDateTime

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
SIDES = ("debit", "credit")
# The normal side of each type; a contra account (the loss provision) takes the other one.
NORMAL_SIDE = {"asset": "debit", "expense": "debit", "liability": "credit", "equity": "credit", "income": "credit"}
ACCOUNT_STATUSES = ("active", "closed")
# both: the entry belongs to the cash and the accrual books alike (a disbursement);
# accrual / cash: only to that book (an interest accrual; interest income recognised on receipt).
BASES = ("both", "accrual", "cash")


class LedgerAccount(Base):
    """An account of an institution's chart: code, names, type, normal side, parent, currency, open or closed."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("institution_id", "code"),
        UniqueConstraint("institution_id", "key"),
        CheckConstraint("type IN ('asset', 'liability', 'equity', 'income', 'expense')", name="type"),
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
        CheckConstraint("status IN ('active', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(32))
    # The role an account of the default chart plays ("loan_principal"), by which other domains post
    # (ledger.chart.PostingMap); None for accounts people add.
    key: Mapped[str | None] = mapped_column(String(48), nullable=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(16))  # one of ACCOUNT_TYPES
    normal_side: Mapped[str] = mapped_column(String(8))  # one of SIDES
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_accounts.id"), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(8), default="active")
    description: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a plain dict)


class JournalEntry(Base):
    """A balanced group of lines on one business date; never edited, reversed by a counter-entry."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("institution_id", "source_kind", "source_ref"),
        UniqueConstraint("reverses_entry_id"),
        CheckConstraint("basis IN ('both', 'accrual', 'cash')", name="basis"),
        Index("ix_ledger_entries_date", "institution_id", "business_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    business_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(255))
    # What caused the entry: "manual", "reversal", later "loan_event" …; `source_ref` its id in that
    # domain (NULL for manual entries: NULLs never collide in the unique constraint).
    source_kind: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    basis: Mapped[str] = mapped_column(String(8))  # one of BASES
    reverses_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), nullable=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EntryTotal(Base):
    """An entry's debit and credit totals in one currency; the database refuses them unequal."""

    __tablename__ = "ledger_entry_totals"
    __table_args__ = (
        CheckConstraint("debit_minor = credit_minor", name="balanced"),
        CheckConstraint("debit_minor > 0", name="positive"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    debit_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)


class JournalLine(Base):
    """One line of an entry: an account debited or credited (exactly one side, positive)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        UniqueConstraint("entry_id", "line_no"),
        CheckConstraint("(debit_minor > 0 AND credit_minor = 0) OR (debit_minor = 0 AND credit_minor > 0)",
                        name="one_side"),
        Index("ix_ledger_lines_account_date", "account_id", "business_date", "entry_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    # The entry's date and basis, copied so that balances are read from the lines alone (their index).
    business_date: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    debit_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str | None] = mapped_column(String(255), nullable=True)


class LedgerBook(Base):
    """An institution's books: the date through which its periods are closed (None: nothing closed)."""

    __tablename__ = "ledger_books"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True,
                                                autoincrement=False)
    closed_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a plain dict)


class PeriodEvent(Base):
    """A close or a reopening of the books, with who, when and (for a reopening) why."""

    __tablename__ = "ledger_period_events"
    __table_args__ = (
        CheckConstraint("action IN ('close', 'reopen')", name="action"),
        Index("ix_ledger_period_events_inst", "institution_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    action: Mapped[str] = mapped_column(String(8))
    # The closed date before and after the event.
    closed_before: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_after: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
