import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { feeBasesFor, inputProblems, toLoanDescription, useQuote, type CalculatorInput } from './stores/quote'
import { fakeApi, requests } from '@/test/fetch'
import { problem } from '@/test/fixtures'

const input: CalculatorInput = {
  amount: '10000', term: 12, method: 'equal_installment', annualRate: '12', startDate: '2026-11-25',
  fees: [{ name: '服务费', kind: 'upfront_deducted', basis: 'amount', value: '500' }, { name: '担保费', kind: 'per_installment', basis: 'percent', value: '0.1' }],
}

describe('the calculator’s loan description', () => {
  it('is the API’s, with money and rates as strings', () => {
    expect(toLoanDescription(input)).toEqual({
      amount: '10000', annual_rate: '12', repayment_method: 'equal_installment', term: 12, start_date: '2026-11-25',
      fees: [
        { name: '服务费', kind: 'upfront_deducted', amount: '500' },
        { name: '担保费', kind: 'per_installment', percent: '0.1' },
      ],
    })
  })
})

describe('what a percentage fee is a percent of', () => {
  it('is sent when the kind allows it, and left to the amount otherwise', () => {
    const fees = (of: CalculatorInput['fees'][number]['of'], kind: CalculatorInput['fees'][number]['kind'] = 'per_installment') =>
      toLoanDescription({ ...input, fees: [{ name: '担保费', kind, basis: 'percent', value: '1', of }] }).fees
    expect(fees('installment')).toEqual([{ name: '担保费', kind: 'per_installment', percent: '1', basis: 'installment' }])
    expect(fees('principal_and_interest', 'at_disbursement')?.[0]).toMatchObject({ basis: 'principal_and_interest' })
    // A basis the kind does not allow (left over after the kind changed) is not sent.
    expect(fees('installment', 'upfront_deducted')?.[0]).not.toHaveProperty('basis')
    expect(fees('principal')?.[0]).not.toHaveProperty('basis')
    expect(feeBasesFor('upfront_financed')).toEqual(['principal'])
  })
})

describe('due dates on holidays', () => {
  it('move against the institution’s calendar only when a rule says so', () => {
    expect(toLoanDescription({ ...input, businessDayRule: 'following' })).toMatchObject({ business_day_rule: 'following', calendar: 'cn' })
    const kept = toLoanDescription({ ...input, businessDayRule: 'none' })
    expect('business_day_rule' in kept || 'calendar' in kept).toBe(false)
  })
})

describe('the quote store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('drops the previous result and shows field errors next to the fields', async () => {
    fakeApi({ 'POST /api/v1/quotes': { body: { installments: [], totals: {}, apr: { apr_percent: '12.00' }, fees: [], warnings: [], currency: 'CNY', repayment_method: 'equal_installment' } } })
    const store = useQuote()
    await store.compute(input)
    expect(store.quote?.apr.apr_percent).toBe('12.00')
    expect((await requests[0].json()).amount).toBe('10000')
    expect(requests[0].headers.get('x-institution')).toBeNull()
    await store.compute(input, 'DEMO')
    expect(requests[1].headers.get('x-institution')).toBe('DEMO') // whose holiday calendar applies

    fakeApi({
      'POST /api/v1/quotes': {
        status: 422,
        body: { ...problem(422, 'validation_failed', '输入有误'), errors: [{ field: 'amount', code: 'greater_than', message: '数值太小' }] },
      },
    })
    await store.compute({ ...input, amount: '0' })
    expect(store.fieldErrors).toEqual({ amount: '数值太小' })
    expect(store.error).toBeNull()
    expect(store.quote).toBeNull()
  })

  it('drops the previous result, and any answer on its way, when the inputs are invalid', async () => {
    fakeApi({ 'POST /api/v1/quotes': async () => {
      await new Promise((r) => setTimeout(r, 20))
      return { body: { installments: [], totals: {}, apr: { apr_percent: '12.00' }, fees: [], warnings: [], currency: 'CNY', repayment_method: 'x' } }
    } })
    const store = useQuote()
    await store.compute(input)
    expect(store.quote).not.toBeNull()
    const late = store.compute(input)
    store.invalidate({ amount: '请输入金额' })
    await late
    expect(store.quote).toBeNull()
    expect(store.fieldErrors).toEqual({ amount: '请输入金额' })
    expect(store.loading).toBe(false)
  })

  it('keeps only the answer to the newest inputs', async () => {
    let n = 0
    fakeApi({
      'POST /api/v1/quotes': async () => {
        const mine = ++n
        if (mine === 1) await new Promise((r) => setTimeout(r, 30))
        return { body: { installments: [], totals: {}, apr: { apr_percent: String(mine) }, fees: [], warnings: [], currency: 'CNY', repayment_method: 'x' } }
      },
    })
    const store = useQuote()
    const first = store.compute(input)
    await store.compute({ ...input, term: 24 })
    await first
    expect(store.quote?.apr.apr_percent).toBe('2')
  })
})

describe('the calculator’s own checks', () => {
  it('find what the API need not be asked about', () => {
    expect(inputProblems(input)).toEqual({})
    expect(inputProblems({ ...input, amount: 'abc' })).toEqual({ amount: 'validation.amount_format' })
    expect(inputProblems({ ...input, amount: '12.345' })).toEqual({ amount: 'validation.amount_format' })
    expect(inputProblems({ ...input, amount: ' ' })).toEqual({ amount: 'validation.required' })
    expect(inputProblems({ ...input, amount: '0.00' })).toEqual({ amount: 'validation.positive' })
    expect(inputProblems({ ...input, amount: '0.01' })).toEqual({})
    expect(inputProblems({ ...input, annualRate: '1,2' })).toEqual({ annual_rate: 'validation.rateRange' })
    expect(inputProblems({ ...input, fees: [{ name: 'x', kind: 'upfront_deducted', basis: 'amount', value: '5元' }] })).toEqual({ 'fees.0.amount': 'validation.amount_format' })
    expect(inputProblems({ ...input, fees: [{ name: 'x', kind: 'per_installment', basis: 'percent', value: '' }] })).toEqual({ 'fees.0.percent': 'validation.required' })
  })
})
