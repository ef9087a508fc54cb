// The loan calculator's state: the loan description being edited and the latest quote for it.
// Every change asks the public `POST /api/v1/quotes` again (debounced); only the newest answer is kept.
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'
import { ApiError, TransientError } from '@/api/problem'
import { amountProblem } from '@/identity/validators'

export type LoanDescription = components['schemas']['LoanDescription']
export type QuoteRead = components['schemas']['QuoteRead']
export type RepaymentMethod = LoanDescription['repayment_method']
export type FeeKind = components['schemas']['FeeItem']['kind']
export type BusinessDayRule = NonNullable<LoanDescription['business_day_rule']>

/** The five methods of the schedule engine offered by the calculator (revolving credit needs draws). */
export const METHODS: RepaymentMethod[] = [
  'equal_installment',
  'equal_principal',
  'interest_monthly_principal_at_maturity',
  'interest_quarterly_principal_at_maturity',
  'bullet',
]
export const FEE_KINDS: FeeKind[] = ['upfront_deducted', 'upfront_financed', 'per_installment', 'at_disbursement']
export type FeeBasis = NonNullable<components['schemas']['FeeItem']['basis']>

/**
 * What a percentage fee of `kind` may be a percent of: the amount always; for fees charged once,
 * also the amount plus the schedule's interest, or the interest; for fees per installment, also each
 * installment's own principal + interest (the API refuses the other pairs).
 */
export function feeBasesFor(kind: FeeKind): FeeBasis[] {
  if (kind === 'upfront_deducted' || kind === 'at_disbursement') return ['principal', 'principal_and_interest', 'interest']
  if (kind === 'per_installment') return ['principal', 'installment']
  return ['principal']
}
/** What happens to a due date on a holiday or a weekend (by the institution's holiday calendar). */
export const BUSINESS_DAY_RULES: BusinessDayRule[] = ['none', 'following', 'modified_following', 'preceding', 'modified_preceding']

export interface FeeInput {
  name: string
  kind: FeeKind
  basis: 'amount' | 'percent'
  value: string
  /** What a percentage is a percent of (the amount when absent or not allowed for the kind). */
  of?: FeeBasis
}

export interface CalculatorInput {
  amount: string
  term: number
  method: RepaymentMethod
  annualRate: string
  startDate: string
  fees: FeeInput[]
  /** Moving due dates off holidays uses the institution's calendar ("cn"); 'none' keeps them. */
  businessDayRule?: BusinessDayRule
}

/** The calculator's inputs as the API's loan description. */
export function toLoanDescription(input: CalculatorInput): LoanDescription {
  return {
    amount: input.amount.trim(),
    annual_rate: input.annualRate.trim(),
    repayment_method: input.method,
    term: input.term,
    start_date: input.startDate,
    fees: input.fees.map((f) => ({
      name: f.name.trim(),
      kind: f.kind,
      ...(f.basis === 'amount' ? { amount: f.value.trim() } : { percent: f.value.trim() }),
      ...(f.basis === 'percent' && f.of && f.of !== 'principal' && feeBasesFor(f.kind).includes(f.of) ? { basis: f.of } : {}),
    })),
    ...(input.businessDayRule && input.businessDayRule !== 'none' ? { business_day_rule: input.businessDayRule, calendar: 'cn' as const } : {}),
  }
}

const DECIMAL = /^\d+(\.\d+)?$/

/**
 * What is wrong with the inputs before asking the API, as catalogue keys by the API's field names
 * ({ amount: 'validation.amount_format' }); empty when the API may judge the rest (ranges, limits).
 */
export function inputProblems(input: CalculatorInput): Record<string, string> {
  const problems: Record<string, string> = {}
  const amount = input.amount.trim()
  if (!amount) problems.amount = 'validation.required'
  else if (amountProblem(amount)) problems.amount = 'validation.amount_format'
  else if (!/[1-9]/.test(amount)) problems.amount = 'validation.positive'
  const rate = input.annualRate.trim()
  if (!rate) problems.annual_rate = 'validation.required'
  else if (!DECIMAL.test(rate)) problems.annual_rate = 'validation.rateRange'
  input.fees.forEach((f, i) => {
    const value = f.value.trim()
    const field = `fees.${i}.${f.basis === 'amount' ? 'amount' : 'percent'}`
    if (!value) problems[field] = 'validation.required'
    else if (f.basis === 'amount' ? amountProblem(value) : !DECIMAL.test(value)) problems[field] = f.basis === 'amount' ? 'validation.amount_format' : 'validation.positive'
  })
  return problems
}

export const useQuote = defineStore('quote', {
  state: () => ({
    quote: null as QuoteRead | null,
    loading: false,
    error: null as ApiError | TransientError | null,
    fieldErrors: {} as Record<string, string>,
    seq: 0,
  }),
  actions: {
    /**
     * The inputs cannot be quoted (`fieldErrors` says why): the previous result no longer answers them,
     * so it goes, and any answer still on its way is ignored.
     */
    invalidate(fieldErrors: Record<string, string>): void {
      this.seq++
      this.quote = null
      this.error = null
      this.loading = false
      this.fieldErrors = fieldErrors
    },
    /** Quote `input`; `institution` (a code) names whose holiday calendar applies (default: the deployment's). */
    async compute(input: CalculatorInput, institution?: string): Promise<void> {
      const mine = ++this.seq
      this.loading = true
      try {
        const header = institution ? { 'x-institution': institution } : {}
        const quote = await call(api.POST('/api/v1/quotes', { body: toLoanDescription(input), params: { header } }))
        if (mine !== this.seq) return
        this.quote = quote
        this.error = null
        this.fieldErrors = {}
      } catch (e) {
        if (mine !== this.seq) return
        if (!(e instanceof ApiError || e instanceof TransientError)) throw e
        // The result on screen was for other inputs: never leave it looking like the answer to these.
        this.quote = null
        this.fieldErrors = e instanceof ApiError ? e.fieldErrors() : {}
        this.error = e instanceof ApiError && Object.keys(this.fieldErrors).length ? null : e
      } finally {
        if (mine === this.seq) this.loading = false
      }
    },
  },
})
