import { describe, expect, it, vi } from 'vitest'
import { isFinal, payBody, payoutLeft, settle, type PaymentOrder } from './payments'

const order = (status: PaymentOrder['status']) => ({ status }) as PaymentOrder

describe('payments through the provider', () => {
  it('sends a prepayment with its mode and a repayment without one', () => {
    expect(payBody(' 100.00 ', 'repayment', 'shorten_term')).toEqual({ amount: '100.00', purpose: 'repayment', mode: null })
    expect(payBody('3000', 'prepayment', 'reduce_installment')).toEqual({ amount: '3000', purpose: 'prepayment', mode: 'reduce_installment' })
    expect(payBody('3000', 'prepayment', null).mode).toBeNull()
  })

  it('knows a requested payment is not final', () => {
    expect(isFinal(order('requested'))).toBe(false)
    expect(isFinal(order('confirmed'))).toBe(true)
    expect(isFinal(order('failed'))).toBe(true)
  })

  it('polls until the provider has decided, and no longer', async () => {
    const answers = [order('requested'), order('requested'), order('confirmed'), order('failed')]
    const poll = vi.fn(async () => answers.shift()!)
    const sleep = vi.fn(async () => {})
    expect((await settle(poll, { tries: 10, sleep })).status).toBe('confirmed')
    expect(poll).toHaveBeenCalledTimes(3)
    expect(sleep).toHaveBeenCalledTimes(2)
  })

  it('gives the last answer when the tries run out', async () => {
    const poll = vi.fn(async () => order('requested'))
    expect((await settle(poll, { tries: 3, sleep: async () => {} })).status).toBe('requested')
    expect(poll).toHaveBeenCalledTimes(3)
  })
})

describe('payoutLeft', () => {
  it('is the approved principal less what was disbursed, and says whether tranches are allowed', () => {
    expect(payoutLeft({ principal: '8000.00', terms: { servicing: { tranches: true } }, state: { disbursed: '5000.10' } })).toEqual({
      tranches: true,
      left: '2999.90',
      next: null,
    })
    expect(payoutLeft({ principal: '8000.00', terms: { servicing: {} }, state: null })).toEqual({ tranches: false, left: '8000.00', next: null })
  })

  it('offers the next payout the product planned, not one already made', () => {
    const expected_disbursements = [
      { on: '2026-03-02', amount: '4800.00' },
      { on: '2026-04-01', amount: '3200.00' },
    ]
    const terms = { servicing: { tranches: true, expected_disbursements } }
    expect(payoutLeft({ principal: '8000.00', terms, state: null }).next).toEqual({ number: 1, on: '2026-03-02', amount: '4800.00' })
    const paid = { disbursed: '4800.00', disbursements: [{}] }
    expect(payoutLeft({ principal: '8000.00', terms, state: paid }).next).toEqual({ number: 2, on: '2026-04-01', amount: '3200.00' })
    expect(payoutLeft({ principal: '8000.00', terms, state: { disbursed: '8000.00', disbursements: [{}, {}] } }).next).toBeNull()
  })
})
