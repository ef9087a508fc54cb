"""Values a unit of work stages in `Session.info` until it commits — the audit records waiting for their
numbers, the close of business's folds waiting to be kept — and what a rollback does to them.

A value remembers the transaction (or savepoint) it was made in. When a savepoint rolls back, the values made
inside it, or inside a savepoint within it, go with it; the rest stay. When the whole transaction rolls back,
none stay. The same rule serves every domain that stages: written once here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, SessionTransaction


def within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    """Whether `transaction` is `outer` or a savepoint nested in it."""
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def forget_rolled_back(session: Session, key: str, previous: SessionTransaction,
                       made_in: Callable[[Any], SessionTransaction | None]) -> None:
    """After `previous` rolled back: drop the values staged under `session.info[key]` that were made within it
    (all of them when it was the outermost transaction)."""
    staged: list[Any] | None = session.info.get(key)
    if not staged:
        return
    if previous.parent is None:
        session.info.pop(key, None)
        return
    session.info[key] = [value for value in staged if not within(made_in(value), previous)]
