"""Folding loans from their events: 10,000 random loans of 12 to 36 monthly installments.

    .venv/bin/python bench/replay.py [--loans 10000] [--naive 200] [--seed 20261202]

Each loan (10,000 to 200,000 CNY, 6 % to 24 %, equal installments on the declining
balance, ACT/365, due-date order, overpayments held as credit) has about 30 events:
its disbursement; a repayment for each month up to two before the end (on time,
late, split into two partial payments, or keyed in back-dated after everything
else); one prepayment that lowers the installment; and on a third of them a second
tranche.  Paths, each timed on the same loans in the same run:

- loan.fold (`events_per_s`): `loan.fold(terms, events, as_of=...)`, the public
  function, timed to the `LoanState` it returns (the kernel's fold over integer columns
  for these loans, and the state made from them: status, days past due, class, totals;
  its installments, payments, schedule, payoff quote and disbursements made when first
  read, `state.later`);
- read (`read_all_events_per_s`): the same states with every one of those lazy fields
  then read, timed apart and added to loan.fold -- what a caller that reads the whole
  state (servicing posting a loan to the books) pays;
- kernel (`kernel_events_per_s`): `loan.kernel.try_fold` alone, to its folded columns,
  no `LoanState`;
- fold: `loan.fold.reference_fold(terms, events, as_of=...)`, the reference, from
  scratch, once per loan;
- book: `LoanBook`, each event recorded as it arrives (a back-dated one replays
  what follows its value date), then the state read;
- naive (baseline): the whole history folded again by the reference from scratch
  after every event, as a system without a kept book would, on `--naive` loans
  spread over the set.

The paths take turns over chunks of 100 loans, so that a change in the
machine's load weighs on each alike (`loan.fold` and the kernel alone take turns at
going first, the first to fold a loan paying for what is memoised: its dates); each
chunk's states are checked (untimed) and let go before the next, so that no path pays
the garbage collector's passes over the states the other paths kept (the heap of a
whole run's states did that).

The garbage collector's passes are paid by whichever path's allocation sets them off, and a full
(generation-2) pass walks the whole heap -- here mostly the bench's own input, every loan's
events held for the whole run (some 750,000 tracked objects for 10,000 loans: ~0.3 s a pass on
an idle core): a path that sets off two such passes more than another in a run reads tens of per
cent slower (the kernel alone below `loan.fold` on 4 December, the full read at 25,686).  So the
CPU seconds of each generation's passes are reported per path (`gc_cpu_s`, from `gc.callbacks`),
and `--freeze-input` moves the input into the collector's permanent generation (`gc.freeze()`)
once it is made: every pass still runs, over everything the paths make, but no longer walks the
events the bench holds (a caller folding a loan it has just read from the database holds a
loan's, not 10,000 loans').  Without it (the default) the figures are as before.

Events per second count each loan's events once on every path, per wall-clock second
(what the JSON's main figures are) and per CPU second of this process (`cpu_events_per_s`:
on a shared machine the wall clock also counts the time other processes held the core).  Correctness,
untimed: `mismatches` counts loans whose state differs between the kernel, the
reference fold, the book and the naive path, or from the Fraction reference (a
loan the kernel hands over to the reference counts too): each installment's scheduled interest
recomputed exactly as a `Fraction` (a month's interest on its opening balance,
rounded half up; months that a prepayment or tranche split are left out), and
every component of every installment reconciled (due = paid + waived + written
off + outstanding, principal conserved, each fen of each payment on exactly one
line or in the credit held).  Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from microcredit.lending import loan
from microcredit.lending.allocation import DUE_DATE_ORDER, OverpaymentPolicy
from microcredit.lending.calendar import WEEKENDS_ONLY
from microcredit.lending.classification import (
    DEFAULT_BUCKETS,
    DEFAULT_PROVISION_RATES,
    ClassificationPolicy,
)
from microcredit.lending.daycount import DayCount, DaysInMonth, DaysInYear
from microcredit.lending.loan import kernel
from microcredit.lending.loan import state as state_module
from microcredit.lending.loan.fold import reference_fold
from microcredit.lending.money import Money, RoundingMode, RoundingPolicy
from microcredit.lending.periods import Frequency, PeriodSpec, PeriodUnit, add_units
from microcredit.lending.prepayment import PrepaymentMode
from microcredit.lending.schedule import (
    InterestCalculation,
    InterestMethod,
    LoanTerms,
    RepaymentMethod,
)

# The fields `loan.fold` may give lazily (all of them eager on a checkout before `state.later`,
# which this bench can be run on for a before-and-after: PYTHONPATH=<that checkout>/src).
LAZY_FIELDS = getattr(state_module, "LAZY_FIELDS", ("disbursements", "schedule", "installments", "payments", "payoff"))
ACT_365 = DayCount(DaysInMonth.ACTUAL, DaysInYear.D365)
ROUNDING = RoundingPolicy("CNY", RoundingMode.HALF_UP)


@dataclass(frozen=True, slots=True)
class Case:
    terms: loan.Terms
    events: tuple[loan.Event, ...]
    as_of: date


def _terms(rng: random.Random, tranches: bool) -> loan.Terms:
    count = rng.randrange(12, 37)
    start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 365))
    contract = LoanTerms(
        principal=Money(rng.randrange(1_000_000, 20_000_001, 100), "CNY"),
        annual_rate=Decimal(rng.randrange(600, 2401)) / Decimal(10_000),
        periods=PeriodSpec(start, Frequency.monthly(), count),
        method=RepaymentMethod.EQUAL_INSTALLMENT, interest_method=InterestMethod.DECLINING_BALANCE,
        interest_calculation=InterestCalculation.SAME_AS_REPAYMENT, day_count=ACT_365, rounding=ROUNDING,
    )
    return loan.Terms(
        contract=contract, calendar=WEEKENDS_ONLY, strategy=DUE_DATE_ORDER,
        overpayment=OverpaymentPolicy.CREDIT_BALANCE, prepayment_mode=PrepaymentMode.SHORTEN_TERM,
        dpd_grace_days=0, dpd_tolerance=Money(0, "CNY"), buckets=DEFAULT_BUCKETS,
        classification=ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES),
        tranches=tranches, down_payment=None, recalculation=None,
    )


def _case(rng: random.Random) -> Case:
    tranche = rng.random() < 1 / 3
    terms = _terms(rng, tranche)
    start, count = terms.contract.periods.start, terms.contract.periods.count
    approved = terms.contract.principal.minor
    first = Money(approved // 200 * 100 if tranche else approved, "CNY")
    events: list[loan.Event] = [loan.Disbursement(id="d", on=start, amount=first)]
    level = reference_fold(terms, events, as_of=start).installments[0].due.total.minor
    months = count - 2
    prepaid_in = rng.randrange(3, months)
    tranche_in = rng.randrange(2, months) if tranche else -1
    keyed_later: list[loan.Event] = []
    for number in range(1, months + 1):
        due = add_units(start, PeriodUnit.MONTH, number)
        kind = rng.choice(["on_time", "on_time", "on_time", "late", "partial", "back_dated"])
        if kind == "late":
            events.append(loan.Repayment(id=f"r{number}", on=due + timedelta(days=rng.randrange(1, 20)),
                                         amount=Money(level, "CNY")))
        elif kind == "partial":
            half = level // 2
            events.append(loan.Repayment(id=f"r{number}a", on=due, amount=Money(half, "CNY")))
            events.append(loan.Repayment(id=f"r{number}b", on=due + timedelta(days=5),
                                         amount=Money(level - half, "CNY")))
        else:
            payment = loan.Repayment(id=f"r{number}", on=due, amount=Money(level, "CNY"))
            (keyed_later if kind == "back_dated" else events).append(payment)
        if number == prepaid_in:
            events.append(loan.Prepayment(id="p", on=due + timedelta(days=3), amount=Money(2 * level, "CNY"),
                                          mode=PrepaymentMode.REDUCE_INSTALLMENT))
        if number == tranche_in:
            events.append(loan.Disbursement(id="t", on=due + timedelta(days=7), amount=first))
    return Case(terms, (*events, *keyed_later), add_units(start, PeriodUnit.MONTH, months) + timedelta(days=25))


def _kernel(cases: list[Case]) -> list[kernel.KernelFold | None]:
    return [kernel.try_fold(c.terms, c.events, as_of=c.as_of) for c in cases]


def _loan_fold(cases: list[Case]) -> list[loan.LoanState]:
    return [loan.fold(c.terms, c.events, as_of=c.as_of) for c in cases]


def _read_all(states: list[loan.LoanState]) -> list[loan.LoanState]:
    """Every lazy field of each state read (made, if it was not)."""
    for state in states:
        for name in LAZY_FIELDS:
            getattr(state, name)
    return states


def _fold(cases: list[Case]) -> list[loan.LoanState]:
    return [reference_fold(c.terms, c.events, as_of=c.as_of) for c in cases]


def _book(cases: list[Case]) -> list[loan.LoanState]:
    states = []
    for c in cases:
        book = loan.LoanBook.open(c.terms)
        for event in c.events:
            book = book.record(event)
        states.append(book.state(as_of=c.as_of))
    return states


def _naive(cases: list[Case]) -> list[loan.LoanState]:
    states = []
    for c in cases:
        for taken in range(1, len(c.events) + 1):
            on = max(e.on for e in c.events[:taken])
            reference_fold(c.terms, c.events[:taken], as_of=on)
        states.append(reference_fold(c.terms, c.events, as_of=c.as_of))
    return states


CPU: dict[str, float] = {}
"""Per path, the CPU seconds of this process (`time.process_time`): on a shared machine the wall
clock counts the time other processes held the core; this does not."""
GC: dict[str, list[float]] = {}
"""Per path, the CPU seconds of the garbage collector's passes of generations 0, 1, 2 while it ran,
and (after them) how many passes of each."""
_RUNNING: list[str | float] = ["", 0.0]  # the path timed, and when the running pass started


def _collector(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _RUNNING[1] = time.process_time()
    elif _RUNNING[0]:
        spent = GC.setdefault(str(_RUNNING[0]), [0.0] * 6)
        spent[info["generation"]] += time.process_time() - float(_RUNNING[1])
        spent[3 + info["generation"]] += 1


def _timed(run, cases, path):  # type: ignore[no-untyped-def]
    _RUNNING[0] = path
    started, cpu = time.perf_counter(), time.process_time()
    states = run(cases)
    CPU[path] = CPU.get(path, 0.0) + time.process_time() - cpu
    _RUNNING[0] = ""
    return states, time.perf_counter() - started


def _interest(balance: int, rate: Decimal) -> int:
    """A month's interest on `balance` at the annual `rate` (rate / 12), exactly, rounded half up."""
    exact = Fraction(balance) * Fraction(rate) / 12
    return int(exact + Fraction(1, 2))


def _reference_differences(state: loan.LoanState, case: Case) -> list[str]:
    """What in `state` the Fraction reference disputes (empty: agrees)."""
    problems = []
    schedule = state.schedule
    assert schedule is not None
    rate = case.terms.contract.annual_rate
    balance = sum(d.amount.minor for d in state.disbursements) - state.principal_prepaid.minor
    moved = [e.on for e in case.events[1:] if isinstance(e, loan.Prepayment | loan.Disbursement)]
    for row in schedule.installments:
        # A month's interest on the row's opening balance, except in a month a prepayment or a
        # tranche changed the balance (its interest is split at that day: not checked here).
        if any(row.period_start <= day <= row.due_date for day in moved):
            continue
        opening = row.balance_after.minor + row.principal.minor
        if row.interest.minor != _interest(opening, rate):
            problems.append(f"interest of installment {row.number}")
    for item in state.installments:
        for field in ("principal", "interest", "fee", "penalty"):
            parts = [getattr(getattr(item, kind), field).minor
                     for kind in ("paid", "waived", "written_off", "outstanding")]
            if getattr(item.due, field).minor != sum(parts) or min(parts) < 0:
                problems.append(f"{field} of installment {item.number}")
    if balance != sum(i.due.principal.minor for i in state.installments):
        problems.append("principal not conserved")
    paid_in = sum(e.amount.minor for e in case.events if isinstance(e, loan.Repayment | loan.Prepayment))
    on_lines = sum(line.amount.minor for p in state.payments for line in p.lines)
    prepaid = state.principal_prepaid.minor + state.interest_prepaid.minor
    if paid_in != on_lines + prepaid + state.credit_balance.minor - state.interest_refunded.minor:
        problems.append("a fen paid is not accounted for exactly once")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=200, help="loans the naive baseline folds")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--freeze-input", action="store_true",
                        help="gc.freeze() the loans once made: the collector's passes stop walking the input")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = [_case(rng) for _ in range(args.loans)]
    if args.freeze_input:
        gc.collect()
        gc.freeze()
    gc.callbacks.append(_collector)
    events = sum(len(c.events) for c in cases)
    tranches = sum(1 for c in cases if c.terms.tranches)

    # The paths take turns over chunks of 100 loans, so a change in the machine's load during the
    # run weighs on each of them alike (the machine is shared).
    fallbacks = mismatches = 0
    disputed: dict[str, int] = {}
    kernel_s = loan_s = read_s = fold_s = book_s = naive_s = 0.0
    naive_every = max(1, args.loans // args.naive) if args.naive else 0
    chosen = {i for i in range(0, len(cases), naive_every)} if naive_every else set()
    chosen = set(sorted(chosen)[: args.naive])
    sample = [c for i, c in enumerate(cases) if i in chosen]
    chunk = 100
    for first in range(0, len(cases), chunk):
        part = cases[first:first + chunk]
        # loan.fold and the kernel alone take turns at going first on a chunk: the first to fold a
        # loan in the process pays what is memoised for the next (its period plan, its rates).
        if first // chunk % 2:
            columns, seconds = _timed(_kernel, part, "kernel")
            kernel_s += seconds
        kept, seconds = _timed(_loan_fold, part, "loan.fold")
        loan_s += seconds
        _, seconds = _timed(_read_all, kept, "read")
        read_s += seconds
        if not first // chunk % 2:
            columns, seconds = _timed(_kernel, part, "kernel")
            kernel_s += seconds
        fallbacks += sum(1 for f in columns if f is None)
        del columns
        folded, seconds = _timed(_fold, part, "fold")
        fold_s += seconds
        booked, seconds = _timed(_book, part, "book")
        book_s += seconds
        mine = [c for i, c in enumerate(part, start=first) if i in chosen]
        naive, seconds = _timed(_naive, mine, "naive")
        naive_s += seconds
        # Checked here, untimed, and let go: a heap holding every path's states of the whole run
        # made each path pay the garbage collector's full passes over the others' states.
        by_case = {}
        for case, state, book, fast in zip(part, folded, booked, kept, strict=True):
            problems = _reference_differences(state, case)
            if state != book:
                problems.append("fold and book differ")
            if fast != state:
                problems.append("loan.fold and the reference fold differ")
            for problem in problems:
                disputed[problem.split(" of ")[0]] = disputed.get(problem.split(" of ")[0], 0) + 1
            mismatches += bool(problems)
            by_case[id(case)] = state
        for case, state in zip(mine, naive, strict=True):
            if by_case[id(case)] != state:
                disputed["naive differs"] = disputed.get("naive differs", 0) + 1
                mismatches += 1
        del kept, folded, booked, naive, by_case
    if fallbacks:
        disputed["kernel handed the loan over"] = fallbacks
        mismatches += fallbacks
    naive_events = sum(len(c.events) for c in sample)

    loan_eps, all_eps, kernel_eps = events / loan_s, events / (loan_s + read_s), events / kernel_s
    fold_eps, book_eps = events / fold_s, events / book_s
    naive_eps = naive_events / naive_s if naive_events else float("nan")
    print(f"{args.loans:,} loans, {events:,} events ({events / args.loans:.1f} a loan), {tranches:,} with a tranche")
    print(f"{'path':<10}{'seconds':>10}{'loans/s':>12}{'events/s':>12}")
    print(f"{'loan.fold':<10}{loan_s:>10.2f}{args.loans / loan_s:>12,.0f}{loan_eps:>12,.0f}   "
          "(the LoanState returned: events_per_s)")
    all_s = loan_s + read_s
    print(f"{'+read all':<10}{all_s:>10.2f}{args.loans / all_s:>12,.0f}{all_eps:>12,.0f}   "
          "(and every lazy field of it read)")
    print(f"{'kernel':<10}{kernel_s:>10.2f}{args.loans / kernel_s:>12,.0f}{kernel_eps:>12,.0f}   "
          "(folded columns only, no LoanState)")
    print(f"{'fold':<10}{fold_s:>10.2f}{args.loans / fold_s:>12,.0f}{fold_eps:>12,.0f}   (reference)")
    print(f"{'book':<10}{book_s:>10.2f}{args.loans / book_s:>12,.0f}{book_eps:>12,.0f}")
    print(f"{'naive':<10}{naive_s:>10.2f}{len(sample) / naive_s:>12,.0f}{naive_eps:>12,.0f}   "
          f"(baseline: refolded after every event; {len(sample):,} loans)")
    cpu = {path: (naive_events if path == "naive" else events) / seconds for path, seconds in CPU.items() if seconds}
    cpu["read"] = events / (CPU["loan.fold"] + CPU["read"])
    print("events per CPU second of this process: " + ", ".join(
        f"{'loan.fold+read all' if path == 'read' else path} {value:,.0f}" for path, value in cpu.items()))
    print("garbage collector, CPU seconds of its passes (generation 0 / 1 / 2) and how many full passes: " + ", ".join(
        f"{path} {g[0]:.2f} / {g[1]:.2f} / {g[2]:.2f} ({g[5]:.0f}) of {CPU[path]:.2f}"
        for path, g in GC.items()) + (" (input frozen)" if args.freeze_input else ""))
    print(f"loan.fold {loan_eps / naive_eps:,.1f}x the naive path ({all_eps / naive_eps:,.1f}x with every field "
          f"read), {loan_eps / fold_eps:,.1f}x the reference fold; mismatches {mismatches} {disputed or ''}")
    names = {"loan.fold": "loan_fold", "read": "read_all", "fold": "reference_fold"}
    print(json.dumps({
        "loans": args.loans, "events": events, "loans_per_s": round(args.loans / loan_s),
        "events_per_s": round(loan_eps), "read_all_events_per_s": round(all_eps),
        "kernel_events_per_s": round(kernel_eps),
        "fold_events_per_s": round(fold_eps), "book_events_per_s": round(book_eps),
        "naive_events_per_s": round(naive_eps), "speedup_vs_naive": round(loan_eps / naive_eps, 1),
        "speedup_vs_fold": round(loan_eps / fold_eps, 1), "kernel_fallbacks": fallbacks,
        "cpu_events_per_s": {names.get(path, path): round(value) for path, value in cpu.items()},
        "gc_cpu_s": {names.get(path, path): [round(x, 3) for x in g[:3]] for path, g in GC.items()},
        "gc_full_passes": {names.get(path, path): round(g[5]) for path, g in GC.items()},
        "input_frozen": args.freeze_input,
        "mismatches": mismatches,
    }))


if __name__ == "__main__":
    main()
