"""Key rotation: re-encrypt every encrypted column with the active key.

Columns are found, not listed: every column declared with
`info={"encrypted": "<context>"}` in any domain's models is rotated, with its
context as the associated data. Values already under the active key are left
alone, so the command can be re-run after an interruption. It runs in one
transaction (the CLI's unit of work): all values move, or none.
"""

from __future__ import annotations

from sqlalchemy import MetaData, select, update
from sqlalchemy.orm import Session

from microcredit.platform.crypto import FieldCipher

BATCH = 500


def encrypted_columns(metadata: MetaData) -> list[tuple[str, str, str]]:
    """(table, column, context) of every encrypted column."""
    out = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            context = column.info.get("encrypted")
            if context:
                out.append((table.name, column.name, context))
    return out


def rotate(*, session: Session, cipher: FieldCipher, metadata: MetaData) -> dict[str, int]:
    """Re-encrypt values not under the active key (in the tables of `metadata`); returns counts per column."""
    counts: dict[str, int] = {}
    for table_name, column_name, context in encrypted_columns(metadata):
        table = metadata.tables[table_name]
        column = table.c[column_name]
        pk = next(iter(table.primary_key.columns))
        done, last = 0, None
        while True:
            stmt = select(pk, column).where(column.is_not(None)).order_by(pk).limit(BATCH)
            if last is not None:
                stmt = stmt.where(pk > last)
            rows = session.execute(stmt).all()
            if not rows:
                break
            for key, value in rows:
                if cipher.needs_rotation(value):
                    fresh = cipher.encrypt(cipher.decrypt(value, context=context), context=context)
                    session.execute(update(table).where(pk == key).values({column_name: fresh}))
                    done += 1
            last = rows[-1][0]
        counts[f"{table_name}.{column_name}"] = done
    session.flush()
    return counts
