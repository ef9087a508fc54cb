// The loan calculator's state: the loan description being edited and the latest quote for it.
// Every change asks the public `POST /api/v1/quotes` again (debounced); only the newest answer is kept.
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'
import { ApiError, TransientError } from '@/api/problem'

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
export const FEE_KINDS: FeeKind[] = ['upfront_deducted', 'upfront_financed', 'per_installment']
/** What happens to a due date on a holiday or a weekend (by the institution's holiday calendar). */
export const BUSINESS_DAY_RULES: BusinessDayRule[] = ['none', 'following', 'modified_following', 'preceding', 'modified_preceding']

export interface FeeInput {
  name: string
  kind: FeeKind
  basis: 'amount' | 'percent'
  value: string
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
    })),
    ...(input.businessDayRule && input.businessDayRule !== 'none' ? { business_day_rule: input.businessDayRule, calendar: 'cn' as const } : {}),
  }
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
        this.fieldErrors = e instanceof ApiError ? e.fieldErrors() : {}
        this.error = e instanceof ApiError && Object.keys(this.fieldErrors).length ? null : e
      } finally {
        if (mine === this.seq) this.loading = false
      }
    },
  },
})
