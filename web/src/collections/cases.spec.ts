import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/problem'
import { actionBody, hhmm, ruleOf } from './cases'

const blank = { kind: 'call' as const, outcome: 'reached', contact_party: 'borrower', contact_ref: 'x', contact_reason: 'y', template: 'reminder', notes: ' ', promise_date: '2026-12-10', promise_amount: '100.00' }

describe('collections helpers', () => {
  it('sends only the fields an action kind uses', () => {
    expect(actionBody(blank)).toEqual({ kind: 'call', contact_party: 'borrower', outcome: 'reached' })
    expect(actionBody({ ...blank, kind: 'promise', notes: '周五' })).toEqual({ kind: 'promise', promise_date: '2026-12-10', promise_amount: '100.00', notes: '周五' })
    expect(actionBody({ ...blank, contact_party: 'guarantor' })).toMatchObject({ contact_ref: 'x', contact_reason: 'y' })
  })
  it('reads the rule a refusal names', () => {
    const problem = { type: 't', title: 't', status: 422, code: 'quiet_hours', detail: 'd', rule: 'quiet_hours' }
    expect(ruleOf(new ApiError(422, problem))).toBe('quiet_hours')
    expect(ruleOf(new ApiError(422, { ...problem, rule: null }))).toBeNull()
    expect(ruleOf(new Error('x'))).toBeNull()
  })
  it('formats minutes after midnight', () => {
    expect(hhmm(1320)).toBe('22:00')
    expect(hhmm(480)).toBe('08:00')
  })
})
