import { describe, expect, it } from 'vitest'
import zhCN from '@/i18n/zh-CN'
import en from '@/i18n/en'
import {
  CHANNELS,
  COMPONENTS,
  LOAN_STATUSES,
  MODES,
  actionKey,
  documentOf,
  eventAmount,
  fen,
  isPendingChange,
  installmentStatus,
  isAmount,
  money,
  nextNumber,
  nextPayment,
  reversible,
  scheduleRows,
  waitsForSecondPerson,
  changeRecordedAtOnce,
  CHANGE_KINDS,
  CHANGE_REASONS,
  changeBody,
  deferrable,
  waivable,
  type ChangeForm,
  type Installment,
  type LoanEvent,
} from './loans'

const amounts = (total: string, principal = total) => ({ principal, interest: '0.00', fee: '0.00', penalty: '0.00', total })
function row(number: number, due_date: string, outstanding: string, due = '1000.00'): Installment {
  const paid = money((fen(due) ?? 0) - (fen(outstanding) ?? 0))
  return {
    number,
    due_date,
    period_start: '2026-01-01',
    balance_after: '0.00',
    due: amounts(due),
    paid: amounts(paid),
    outstanding: amounts(outstanding),
    waived: amounts('0.00'),
    written_off: amounts('0.00'),
  }
}
function event(event_id: string, type: string, payload: Record<string, unknown> = {}): LoanEvent {
  return { seq: 1, event_id, type, value_date: '2026-01-01', business_date: '2026-01-01', payload, recorded_at: '', user_id: 1, reference: null, note: null, entries: [] }
}

describe('money in fen', () => {
  it('reads and writes decimal strings without floats', () => {
    expect(fen('1234.5')).toBe(123450)
    expect(fen('0.07')).toBe(7)
    expect(fen('-12.30')).toBe(-1230)
    expect(fen('abc')).toBeNull()
    expect(money(123450)).toBe('1234.50')
    expect(money(-5)).toBe('-0.05')
    expect(money((fen('0.10') ?? 0) + (fen('0.20') ?? 0))).toBe('0.30')
  })
  it('accepts only positive amounts with at most two decimals', () => {
    expect(isAmount('100')).toBe(true)
    expect(isAmount(' 1378.04 ')).toBe(true)
    expect(isAmount('0')).toBe(false)
    expect(isAmount('0.00')).toBe(false)
    expect(isAmount('1.234')).toBe(false)
    expect(isAmount('-5')).toBe(false)
    expect(isAmount('1e3')).toBe(false)
  })
})

describe('the status of an installment', () => {
  const today = '2026-03-10'
  it('is paid when nothing is outstanding, whatever its date', () => {
    expect(installmentStatus(row(1, '2026-02-01', '0.00'), today, 3)).toBe('paid')
    expect(installmentStatus(row(5, '2026-08-01', '0.00'), today, 3)).toBe('paid')
  })
  it('is overdue when its due date has passed with something left, even a part', () => {
    expect(installmentStatus(row(2, '2026-03-09', '0.01'), today, 3)).toBe('overdue')
  })
  it('is due when it is the next to pay (also on its due date), future after it', () => {
    expect(installmentStatus(row(3, '2026-03-10', '1000.00'), today, 3)).toBe('due')
    expect(installmentStatus(row(4, '2026-04-10', '1000.00'), today, 3)).toBe('future')
  })
  it('scheduleRows finds the next one itself', () => {
    const state = { as_of: today, installments: [row(1, '2026-02-10', '0.00'), row(2, '2026-03-01', '400.00'), row(3, '2026-04-10', '1000.00'), row(4, '2026-05-10', '1000.00')] }
    expect(nextNumber(state)).toBe(3)
    expect(scheduleRows(state).map((r) => r.status)).toEqual(['paid', 'overdue', 'due', 'future'])
  })
})

describe('the next payment', () => {
  it('is the next installment when nothing is overdue', () => {
    const state = { as_of: '2026-02-15', installments: [row(1, '2026-02-10', '0.00'), row(2, '2026-03-10', '1378.04'), row(3, '2026-04-10', '1378.04')] }
    expect(nextPayment(state)).toEqual({ due_date: '2026-03-10', number: 2, amount: '1378.04', overdue: '0.00' })
  })
  it('adds what is overdue, dated from the oldest overdue installment', () => {
    const state = { as_of: '2026-03-15', installments: [row(1, '2026-02-10', '200.10'), row(2, '2026-03-10', '1000.00'), row(3, '2026-04-10', '1000.00')] }
    expect(nextPayment(state)).toEqual({ due_date: '2026-02-10', number: 1, amount: '2200.10', overdue: '1200.10' })
  })
  it('is nothing for a loan paid off or without a state', () => {
    expect(nextPayment({ as_of: '2026-03-15', installments: [row(1, '2026-02-10', '0.00')] })).toBeNull()
    expect(nextPayment(null)).toBeNull()
  })
})

describe('events', () => {
  it('offers for reversal only money movements not reversed yet', () => {
    const events = [event('d1', 'disbursement'), event('r2', 'repayment'), event('r3', 'repayment'), event('x4', 'reversal', { target: 'r2' })]
    expect(reversible(events).map((e) => e.event_id)).toEqual(['d1', 'r3'])
    expect(reversible(events, ['r3']).map((e) => e.event_id)).toEqual(['d1'])
  })
  it('reads the amount an event moved', () => {
    expect(eventAmount(event('r2', 'repayment', { amount: '500.00' }))).toBe('500.00')
    expect(eventAmount(event('x3', 'reversal', { target: 'r2' }))).toBeNull()
  })
})

describe('the Idempotency-Key of an action', () => {
  it('is kept across retries and replaced for another action', () => {
    let n = 0
    const key = actionKey(() => `k${++n}`)
    expect(key.get()).toBe('k1')
    expect(key.get()).toBe('k1') // a retry of the same action
    key.reset()
    expect(key.get()).toBe('k2')
  })
})

describe('the words for coded values', () => {
  it('name every status, installment status, channel, mode and component in both languages', () => {
    for (const cat of [zhCN.loan, en.loan]) {
      for (const s of LOAN_STATUSES) expect(cat.status[s], s).toBeTruthy()
      for (const s of ['paid', 'due', 'overdue', 'future'] as const) expect(cat.installment[s], s).toBeTruthy()
      for (const c of CHANNELS) expect(cat.channel[c], c).toBeTruthy()
      for (const m of MODES) {
        expect(cat.mode[m], m).toBeTruthy()
        expect(cat.modeHint[m], m).toBeTruthy()
      }
      for (const c of COMPONENTS) expect(cat.component[c], c).toBeTruthy()
    }
  })
})

describe('tellers: the threshold, pending answers and documents', () => {
  it('waits for a second person only for cash or transfer strictly above the threshold', () => {
    expect(waitsForSecondPerson('1000.01', 'cash', '1000.00')).toBe(true)
    expect(waitsForSecondPerson('1000.00', 'cash', '1000.00')).toBe(false)
    expect(waitsForSecondPerson('5000', 'bank_transfer', '1000.00')).toBe(true)
    expect(waitsForSecondPerson('5000', 'mobile_payment', '1000.00')).toBe(false)
    expect(waitsForSecondPerson('5000', 'cash', null)).toBe(false)
    expect(waitsForSecondPerson('abc', 'cash', '1.00')).toBe(false)
  })

  it('says whether a waiver or refund is recorded at once, by the product\'s change threshold', () => {
    expect(changeRecordedAtOnce('20.00', '20.00')).toBe(true)
    expect(changeRecordedAtOnce('20.01', '20.00')).toBe(false)
    expect(changeRecordedAtOnce('0.01', null)).toBe(false)
    expect(changeRecordedAtOnce(undefined, '20.00')).toBe(false)
  })

  it('tells a pending change from a recorded repayment', () => {
    expect(isPendingChange({ id: 1, kind: 'repayment', status: 'pending', details: {} })).toBe(true)
    expect(isPendingChange({ loan: {}, event: {}, entries: [], repeated: false })).toBe(false)
  })

  it('gives money in a receipt and money out a voucher', () => {
    expect(documentOf({ type: 'repayment', has_document: true })).toBe('receipt')
    expect(documentOf({ type: 'disbursement', has_document: true })).toBe('voucher')
    expect(documentOf({ type: 'refund', has_document: true })).toBe('voucher')
    expect(documentOf({ type: 'waiver', has_document: false })).toBeNull()
  })
})

describe('the change dialog: waivers, deferrals, write-offs', () => {
  const form = (over: Partial<ChangeForm>): ChangeForm => ({
    kind: 'waiver', reason_code: 'hardship', note: '  台风受灾 ', installment: 2, component: 'penalty', amount: ' 12.50 ',
    from_installment: 4, periods: 2, interest: 'waived', restructuring: true, ...over,
  })

  it('sends only the fields of the kind, the amount and note trimmed', () => {
    expect(changeBody(form({}))).toEqual({ kind: 'waiver', reason_code: 'hardship', note: '台风受灾', installment: 2, component: 'penalty', amount: '12.50' })
    expect(changeBody(form({ kind: 'deferral' }))).toEqual({ kind: 'deferral', reason_code: 'hardship', note: '台风受灾', from_installment: 4, periods: 2, interest: 'waived', restructuring: true })
    expect(changeBody(form({ kind: 'write_off', reason_code: 'uncollectible' }))).toEqual({ kind: 'write_off', reason_code: 'uncollectible', note: '台风受灾' })
  })

  it('offers installments already due with interest, fee or penalty left to waive, and later ones to defer from', () => {
    const withPenalty = (r: Installment): Installment => ({ ...r, outstanding: { ...r.outstanding, penalty: '3.20' } })
    const state = {
      as_of: '2026-03-01',
      installments: [row(1, '2026-01-01', '0.00'), withPenalty(row(2, '2026-02-01', '0.00')), row(3, '2026-03-01', '500.00', '500.00'), row(4, '2026-04-01', '1000.00')],
    }
    state.installments[2] = { ...state.installments[2]!, outstanding: { ...state.installments[2]!.outstanding, interest: '8.00' } }
    expect(waivable(state).map((r) => [r.number, r.interest, r.penalty])).toEqual([[2, '0.00', '3.20'], [3, '8.00', '0.00']])
    expect(deferrable(state).map((r) => r.number)).toEqual([4])
  })

  it('offers each kind reasons the API takes, with a name in both languages', () => {
    for (const kind of CHANGE_KINDS) {
      expect(CHANGE_REASONS[kind].length).toBeGreaterThan(1)
      for (const reason of CHANGE_REASONS[kind]) {
        expect(zhCN.loan.change.reasons[reason]).toBeTruthy()
        expect(en.loan.change.reasons[reason]).toBeTruthy()
      }
      expect(zhCN.loan.changeKind[kind]).toBeTruthy()
      expect(en.loan.change.hint[kind]).toBeTruthy()
    }
  })
})
