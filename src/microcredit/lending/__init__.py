"""The lending core: every amount of money in the system is computed here, once.

Pure functions over frozen values: no I/O, no database, no web, no clock.
Conventions (day count, rounding policy, holiday calendar, allocation
strategy, as-of date) are keyword arguments the caller always states; the
core has no defaults for them.  Every amount in and out is a `money.Money`
(integer minor units + currency); inside, schedules are computed exactly on
those integers with rational rates, and `batch` does the same with NumPy,
matching them to the fen.

Modules, along the seams of the domain:

- `money`: the Money value, the currency table, the four rounding modes
  (once, on integers, shared by the vectorised path), `RoundingPolicy`;
- `calendar`: holiday calendars and business-day adjustment;
- `daycount`: ACT/365F, ACT/360, ACT/364, ACT/ACT ISDA, 30/360;
- `periods`: due dates, month ends, broken periods, the 20th rule;
- `fees`: upfront deducted / financed / per-installment fees and payees;
- `schedule`: 等额本息, 等额本金, interest only, bullet, flat, grace;
- `revolving`: 随借随还 daily interest over draws and repayments;
- `apr`: IRR / XIRR in Decimal, APR, EAR, total cost of credit;
- `allocation`: payment waterfalls, replay and reversal;
- `prepayment`: partial prepayment (shorter term / lower installment), payoff;
- `restructure`: deferral (展期) and rescheduling;
- `delinquency`: days past due, penalty (罚息) and compound (复利) interest,
  late fees, the default-charge cap;
- `classification`: delinquency buckets, five categories (五级分类), provisions;
- `portfolio`: PAR, write-off ratio, OSS;
- `batch`: the vectorised NumPy path for many loans at once.
"""
