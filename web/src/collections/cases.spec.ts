import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/problem'
import { actionBody, checkRules, hhmm, minutesOf, placeholdersIn, quietShortAt, ruleOf } from './cases'

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
  it('finds the placeholders of a template as the sender reads them', () => {
    expect(placeholdersIn('{name}您好，贷款 {loan} 逾期 {dpd} 天，{amount} 元')).toEqual(['name', 'loan', 'dpd', 'amount'])
    expect(placeholdersIn('{{literal}} {name!r} {amount:>8}')).toEqual(['name', 'amount'])
    expect(placeholdersIn('{name.upper} {}')).toEqual(['name.upper', ''])
    expect(placeholdersIn('Dear {name')).toBeNull()
    expect(placeholdersIn('a } b')).toBeNull()
    expect(placeholdersIn('{a{b}}')).toBeNull()
  })
  it('reads a time of day and keeps the quiet hours over 22:00–08:00', () => {
    expect(minutesOf('21:30')).toBe(1290)
    expect(minutesOf('24:00')).toBeNull()
    expect(minutesOf('8:00')).toBeNull()
    expect(quietShortAt(1320, 480)).toBeNull()
    expect(quietShortAt(1290, 510)).toBeNull()
    expect(quietShortAt(1321, 480)).toBe('quiet_from_minute')
    expect(quietShortAt(1320, 479)).toBe('quiet_until_minute')
    expect(quietShortAt(480, 1320)).toBe('quiet_from_minute')
    expect(quietShortAt(0, 600)).toBe('quiet_from_minute') // 00:00–10:00 leaves 22:00–24:00 open
  })
  it('names the fields the API would refuse, by its field names', () => {
    const tpl = { code: 'reminder', zh: '{name}您好', en: 'Dear {name}' }
    const agency = { name: '华信', contact: null, commission_percent: '12.5', stages: ['legal'], active: true }
    const ok = { quiet_from: '22:00', quiet_until: '08:00', sms_templates: [tpl], agencies: [agency] }
    expect(checkRules(ok)).toEqual({})
    expect(checkRules({ ...ok, quiet_from: '22:30' })).toEqual({ quiet_from_minute: { key: 'quietShort' } })
    expect(checkRules({ ...ok, quiet_until: 'x' })).toEqual({ quiet_until_minute: { key: 'time' } })
    expect(checkRules({ ...ok, sms_templates: [tpl, { code: 'reminder', zh: '{balance}', en: '' }] })).toEqual({
      'sms_templates.1.code': { key: 'duplicate' },
      'sms_templates.1.zh': { key: 'placeholder', values: { name: '{balance}' } },
      'sms_templates.1.en': { key: 'required' },
    })
    expect(checkRules({ ...ok, agencies: [agency, { ...agency, commission_percent: '120', stages: [] }] })).toEqual({
      'agencies.1.name': { key: 'duplicate' },
      'agencies.1.commission_percent': { key: 'percent' },
      'agencies.1.stages': { key: 'stagesRequired' },
    })
  })
})
