"""To-dos: what is waiting for the signed-in person, counted by each domain.

The staff console's home shows, per person, the work waiting for them with a
count (changes to review, locked accounts, borrowers without a branch …).
Each domain offers `todos(session=…, principal=…)` returning `Todo`s for the
caller — only those the caller's permissions and data scope let them act on —
and `api/todos.py` asks every domain. A later domain adds its own (applications
to review, installments overdue, cases to call) the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Todo:
    """`count` things of kind `code` wait for the caller (the web app names and links each code)."""

    code: str
    count: int
