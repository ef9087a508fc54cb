import { describe, expect, it, vi } from 'vitest'
import { debounce, emptyForm, formErrors, formField, formFromTerms, formProblems, rateRange, termsFromForm } from './catalogue'

describe('the product form and the API terms', () => {
  it('round-trips a by-grade version with fees, recalculation and an approval policy', () => {
    const form = emptyForm('2026-01-01')
    Object.assign(form, {
      name_zh: '助农贷', name_en: 'Farm loan', rate_kind: 'by_grade',
      grades: { A: '7', B: '8', C: '9', D: '10', E: '11.5' }, recalculation: true, recalculation_rest: 'monthly',
      fees: [{ name: '担保费', kind: 'per_installment', basis: 'percent', value: ' 0.05 ', payee: 'guarantor', of: 'installment', waivable: false }],
      approval_policy: [{ up_to_amount: '10000.00', worst_grade: 'C', levels: 1 }, { up_to_amount: '50000.00', worst_grade: 'E', levels: 3 }],
    })
    const terms = termsFromForm(form)
    expect(terms.rate).toEqual({ kind: 'by_grade', grades: { A: '7', B: '8', C: '9', D: '10', E: '11.5' } })
    expect(terms.fees).toEqual([{ name: '担保费', kind: 'per_installment', payee: 'guarantor', percent: '0.05', basis: 'installment', waivable: false }])
    expect(terms.recalculation).toEqual({ rest: 'monthly', compounding: 'none', pre_closure: 'till_pre_closure_date' })
    expect(terms.active_to).toBeNull()
    const again = formFromTerms(terms)
    expect(termsFromForm(again)).toEqual(terms)
  })

  it('sends a fixed rate alone and an amount fee as an amount', () => {
    const form = { ...emptyForm('2026-01-01'), name_zh: '消费贷', name_en: 'Consumer loan', annual_rate: '11.5' }
    // A basis left over from another kind is not sent: only a per-installment percent may follow the installment.
    form.fees = [{ name: '手续费', kind: 'upfront_financed', basis: 'amount', value: '50.00', payee: 'platform', of: 'installment', waivable: true }]
    const terms = termsFromForm(form)
    expect(terms.rate).toEqual({ kind: 'fixed', annual_rate: '11.5' })
    expect(terms.fees?.[0]).toEqual({ name: '手续费', kind: 'upfront_financed', payee: 'platform', amount: '50.00', waivable: true })
  })
})

describe('the late fee', () => {
  it('is sent when on (trimmed), round-trips, and is null when off', () => {
    const form = { ...emptyForm('2026-01-01'), name_zh: '贷', name_en: 'Loan', late_fee_on: true, late_fee_amount: ' 20.00 ', late_fee_percent: '1.5', late_fee_after_days: 7 }
    const terms = termsFromForm(form)
    expect(terms.penalty.late_fee).toEqual({ amount: '20.00', percent: '1.5', after_days: 7 })
    expect(termsFromForm(formFromTerms(terms))).toEqual(terms)
    expect(termsFromForm({ ...form, late_fee_on: false }).penalty.late_fee).toBeNull()
    expect(formFromTerms(termsFromForm({ ...form, late_fee_on: false })).late_fee_on).toBe(false)
  })
})

describe("the product's own accounts", () => {
  it('sends only the roles given (trimmed), round-trips, and keeps the defaults for the rest', () => {
    const base = emptyForm('2026-01-01')
    const form = { ...base, name_zh: '贷', name_en: 'Loan', accounts: { ...base.accounts, loan_principal: ' 130102 ', interest_income: '601101' } }
    const terms = termsFromForm(form)
    expect(terms.accounts).toEqual({ loan_principal: '130102', interest_income: '601101' })
    expect(termsFromForm(formFromTerms(terms))).toEqual(terms)
    expect(formFromTerms(terms).accounts.fee_income).toBe('')
    expect(termsFromForm(base).accounts).toEqual({})
  })
  it('sends a threshold of its own for branch repayments, or null for the institution\'s', () => {
    const base = { ...emptyForm('2026-01-01'), name_zh: '贷', name_en: 'Loan' }
    expect(termsFromForm(base).repayment_approval_above).toBeNull()
    const terms = termsFromForm({ ...base, repayment_approval_above: ' 2000.00 ' })
    expect(terms.repayment_approval_above).toBe('2000.00')
    expect(termsFromForm(base).change_approval_above).toBeNull()
    expect(termsFromForm({ ...base, change_approval_above: ' 200.00 ' }).change_approval_above).toBe('200.00')
    expect(termsFromForm(formFromTerms(terms))).toEqual(terms)
  })
})

describe('the limit table by grade and the debt-service bound', () => {
  it('are sent when on, round-trip, and are absent (null) when off', () => {
    const form = { ...emptyForm('2026-01-01'), name_zh: '贷', name_en: 'Loan', limits_on: true, max_dsr_percent: ' 50 ' }
    form.limits = { A: '50000.00', B: '40000.00', C: '30000.00', D: '20000.00', E: '10000.00' }
    const terms = termsFromForm(form)
    expect(terms.limits).toEqual({ A: '50000.00', B: '40000.00', C: '30000.00', D: '20000.00', E: '10000.00' })
    expect(terms.max_dsr_percent).toBe('50')
    expect(termsFromForm(formFromTerms(terms))).toEqual(terms)
    const off = termsFromForm({ ...form, limits_on: false, max_dsr_percent: '' })
    expect([off.limits, off.max_dsr_percent]).toEqual([null, null])
  })

  it('refuses a worse grade with a higher limit and a bound outside 0–100', () => {
    const form = { ...emptyForm('2026-01-01'), name_zh: '贷', name_en: 'Loan', limits_on: true, max_dsr_percent: '120' }
    form.limits = { A: '10000.00', B: '20000.00', C: '10000.00', D: '10000.00', E: '10000.00' }
    expect(formProblems(form)).toEqual({ limits: 'products.errors.limitsOrder', max_dsr_percent: 'products.errors.dsr' })
  })
})

describe('the checks before the server is asked', () => {
  const valid = () => ({ ...emptyForm('2026-01-01'), name_zh: '贷', name_en: 'Loan' })

  it('accepts a complete form', () => {
    expect(formProblems(valid())).toEqual({})
  })

  it('names the field of each problem', () => {
    const form = valid()
    Object.assign(form, { amount_min: '60000.00', term_min: 12, term_max: 6, age_min: 40, age_max: 30, annual_rate: '12,5', repayment_methods: [] })
    expect(formProblems(form)).toEqual({
      amount_max: 'products.errors.maxBelowMin', term_max: 'products.errors.maxBelowMin', age_max: 'products.errors.maxBelowMin',
      'rate.annual_rate': 'products.errors.rate', repayment_methods: 'validation.required',
    })
  })

  it('refuses grades whose rate falls as the grade worsens', () => {
    const form = { ...valid(), rate_kind: 'by_grade' as const, grades: { A: '9', B: '8', C: '10', D: '11', E: '12' } }
    expect(formProblems(form)).toEqual({ 'rate.grades': 'products.errors.gradesOrder' })
  })
})

describe('the server field names on the form', () => {
  it('drops the terms prefix and keeps the rest dotted', () => {
    expect(formField('terms.amount_max')).toBe('amount_max')
    expect(formField('rate.grades.E')).toBe('rate.grades.E')
    expect(formErrors({ 'terms.fees.0.kind': 'no', code: 'taken' })).toEqual({ 'fees.0.kind': 'no', code: 'taken' })
  })
})

describe('small helpers', () => {
  it('writes a rate range or one rate', () => {
    expect(rateRange({ rate_min_percent: '8', rate_max_percent: '11.4' })).toBe('8% – 11.4%')
    expect(rateRange({ rate_min_percent: '10', rate_max_percent: '10' })).toBe('10%')
  })

  it('debounces a burst of calls into the last one', () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    const d = debounce(fn, 400)
    d(1)
    d(2)
    vi.advanceTimersByTime(399)
    expect(fn).not.toHaveBeenCalled()
    d(3)
    vi.advanceTimersByTime(400)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenCalledWith(3)
    d(4)
    d.cancel()
    vi.advanceTimersByTime(1000)
    expect(fn).toHaveBeenCalledTimes(1)
    vi.useRealTimers()
  })
})
