"""Column types: Money of a stated currency as BIGINT minor units, through the Money constructors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import mysql, postgresql, sqlite

from microcredit.db.types import MoneyColumn
from microcredit.lending.money import CurrencyMismatch, Money, UnknownCurrency


def test_money_is_stored_as_its_minor_units_and_read_back_as_money() -> None:
    column = MoneyColumn("CNY")
    for dialect in (sqlite.dialect(), postgresql.dialect(), mysql.dialect()):
        assert column.process_bind_param(Money.parse("8800.50", "CNY"), dialect) == 880050
        assert column.process_result_value(880050, dialect) == Money(880050, "CNY")
        assert column.process_bind_param(None, dialect) is None
        assert column.process_result_value(None, dialect) is None
    assert MoneyColumn("JPY").process_result_value(1234, sqlite.dialect()) == Money(1234, "JPY")
    assert repr(column) == "MoneyColumn('CNY')"


@pytest.mark.parametrize("value", [Decimal("8800.50"), "8800.50", 8800.5, 880050])
def test_anything_but_money_is_refused(value: object) -> None:
    with pytest.raises(TypeError, match="stores Money"):
        MoneyColumn("CNY").process_bind_param(value, sqlite.dialect())


def test_the_columns_currency_is_enforced() -> None:
    with pytest.raises(CurrencyMismatch):
        MoneyColumn("CNY").process_bind_param(Money(100, "USD"), sqlite.dialect())
    with pytest.raises(UnknownCurrency):
        MoneyColumn("ZZZ")  # not a currency code


def test_a_round_trip_through_a_database() -> None:
    metadata = MetaData()
    table = Table("amounts", metadata, Column("amount", MoneyColumn("CNY")))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    amounts = [Money.parse(text, "CNY") for text in ("0.01", "-1.00", "99999999999999.99")]
    with engine.begin() as connection:
        connection.execute(insert(table), [{"amount": a} for a in amounts])
        assert [row.amount for row in connection.execute(select(table.c.amount))] == amounts
    assert str(table.c.amount.type.compile(dialect=postgresql.dialect())) == "BIGINT"
