"""A fold's installments and payments in minor units, whichever fold made it: what readers that only add and
compare amounts (the books' holdings, the penalties owed, the columns the close of business reads) take instead
of `LoanState.installments` and `.payments`, whose `Money` and `Amounts` objects they would otherwise make and add.

A state the kernel folded carries its integer columns (`kernel.integer_view`): its installments are read from
them and no `InstallmentState` is made (nothing is waived or written off on a history the kernel folds). Any other
state is read from its objects, `.minor` of each amount. Either way the figures are the objects' to the unit:

    installment.paid == tuple(a.minor for a in (row.paid.principal, row.paid.interest, row.paid.fee,
                                                row.paid.penalty))

for every `row` of `state.installments`, in the same order, and likewise for the other amounts and the
payments' lines (`tests/unit/lending/loan/test_minor.py`, over the kernel's and the reference's histories).
Made once per state and kept on it (a state and the columns it was read from are not changed once made).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from microcredit.lending.allocation import Component
from microcredit.lending.loan.kernel import PAYMENT_HEAD, integer_view
from microcredit.lending.loan.state import Amounts, LoanState

__all__ = ["COMPONENT_INDEX", "MinorInstallment", "MinorPayment", "installments", "payments"]

Four = tuple[int, int, int, int]
"""Principal, interest, fee, penalty (minor units)."""

COMPONENT_INDEX = {Component.PRINCIPAL: 0, Component.INTEREST: 1, Component.FEE: 2, Component.PENALTY: 3}
"""A line's component by its place in a `Four` (the kernel's column order)."""

_NOTHING: Four = (0, 0, 0, 0)
_INSTALLMENTS = "_minor_installments"  # the state's __dict__: what `installments` made of it
_PAYMENTS = "_minor_payments"


class MinorInstallment(NamedTuple):
    """`InstallmentState` in minor units (period start and balance after left out)."""

    number: int
    due_date: date
    due: Four
    paid: Four
    waived: Four
    written_off: Four
    outstanding: Four

    @property
    def settled(self) -> bool:
        """Nothing of it is outstanding (`InstallmentState.settled`)."""
        return sum(self.outstanding) == 0


class MinorPayment(NamedTuple):
    """`PaymentApplied` in minor units: its lines as (installment, component index, amount)."""

    event_id: str | None
    on: date
    amount: int
    lines: tuple[tuple[int, int, int], ...]


def _four(amounts: Amounts) -> Four:
    return amounts.principal.minor, amounts.interest.minor, amounts.fee.minor, amounts.penalty.minor


def installments(state: LoanState) -> tuple[MinorInstallment, ...]:
    """`state.installments` in minor units, in the same order (module docstring)."""
    made: tuple[MinorInstallment, ...] | None = state.__dict__.get(_INSTALLMENTS)
    if made is not None:
        return made
    view = integer_view(state)
    if view is None:
        made = tuple(MinorInstallment(row.number, row.due_date, _four(row.due), _four(row.paid), _four(row.waived),
                                      _four(row.written_off), _four(row.outstanding))
                     for row in state.installments)
    else:
        made = tuple(MinorInstallment(number, due, (cp, ci, cf, cn), (cp - op, ci - oi, cf - of, cn - on), _NOTHING,
                                      _NOTHING, (op, oi, of, on))
                     for number, _, due, cp, ci, cf, cn, op, oi, of, on, _ in view.installments)
    state.__dict__[_INSTALLMENTS] = made
    return made


def payments(state: LoanState) -> tuple[MinorPayment, ...]:
    """`state.payments` in minor units, in the same order (module docstring)."""
    made: tuple[MinorPayment, ...] | None = state.__dict__.get(_PAYMENTS)
    if made is not None:
        return made
    view = integer_view(state)
    if view is None:
        made = tuple(MinorPayment(p.event_id, p.on, p.amount.minor,
                                  tuple((line.installment, COMPONENT_INDEX[line.component], line.amount.minor)
                                        for line in p.lines))
                     for p in state.payments)
    else:
        made = tuple(MinorPayment(logged[0], logged[1], logged[2],
                                  tuple((logged[at], logged[at + 1], logged[at + 2])
                                        for at in range(PAYMENT_HEAD, len(logged), 3)))
                     for logged in view.payments)
    state.__dict__[_PAYMENTS] = made
    return made
