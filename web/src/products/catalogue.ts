// Loan products: the editor's form and its conversion to and from the API's version terms, the
// checks the form makes before asking the server, and the mapping of the server's field names
// ("terms.amount_max", "rate.grades.E") onto the form's.
import type { components } from '@/api/client'

export type ProductTerms = components['schemas']['ProductTerms']
export type ProductRead = components['schemas']['ProductRead']
export type ProductVersionRead = components['schemas']['ProductVersionRead']
export type ProductSummaryRead = components['schemas']['ProductSummaryRead']
export type ProductOfferRead = components['schemas']['ProductOfferRead']
export type CapCheckRead = components['schemas']['CapCheckRead']
export type RepaymentMethodName = ProductTerms['repayment_methods'][number]
export type CustomerType = ProductTerms['customer_types'][number]
export type DocumentType = NonNullable<ProductTerms['required_documents']>[number]
export type FeeKind = components['schemas']['ProductFee']['kind']
export type Payee = components['schemas']['ProductFee']['payee']
export type Grade = 'A' | 'B' | 'C' | 'D' | 'E'

export const GRADES: Grade[] = ['A', 'B', 'C', 'D', 'E']
export const PRODUCT_METHODS: RepaymentMethodName[] = [
  'equal_installment',
  'equal_principal',
  'interest_monthly_principal_at_maturity',
  'interest_quarterly_principal_at_maturity',
  'bullet',
  'revolving_daily',
]
/** Fee kinds a product may have: nothing is deducted from the principal up front. */
export const PRODUCT_FEE_KINDS: FeeKind[] = ['upfront_financed', 'per_installment']
/** What a product's percentage fee may be a percent of: the principal, or each installment (per installment only). */
export const PRODUCT_FEE_BASES: NonNullable<components['schemas']['ProductFee']['basis']>[] = ['principal', 'installment']
export const PAYEES: Payee[] = ['lender', 'guarantor', 'insurer', 'platform']
export const CUSTOMER_TYPES: CustomerType[] = ['consumer', 'sole_trader', 'small_business', 'farmer']
export const DOCUMENT_TYPES: DocumentType[] = [
  'id_card', 'household_register', 'marriage_certificate', 'income_proof', 'bank_statement',
  'asset_proof', 'business_licence', 'tax_record', 'land_contract', 'guarantee_letter',
]
export const DAY_COUNTS = ['ACT/360', 'ACT/365F', 'ACT/364', 'ACT/ACT', '30/360'] as const
/** The posting roles a product may send to accounts of its own, with the account type each needs
 * (ledger.chart.PRODUCT_ROLES / ROLE_TYPES on the server), and the default chart's code. */
export const POSTING_ROLES = [
  { role: 'loan_principal', type: 'asset', code: '130101' },
  { role: 'interest_receivable', type: 'asset', code: '1132' },
  { role: 'fee_receivable', type: 'asset', code: '1133' },
  { role: 'penalty_receivable', type: 'asset', code: '1134' },
  { role: 'interest_income', type: 'income', code: '6011' },
  { role: 'fee_income', type: 'income', code: '6021' },
  { role: 'penalty_income', type: 'income', code: '6031' },
  { role: 'recoveries_income', type: 'income', code: '6301' },
  { role: 'writeoff_expense', type: 'expense', code: '6711' },
  { role: 'borrower_credit', type: 'liability', code: '2241' },
  { role: 'payable_guarantor', type: 'liability', code: '220201' },
  { role: 'payable_insurer', type: 'liability', code: '220202' },
  { role: 'payable_platform', type: 'liability', code: '220203' },
  { role: 'bank', type: 'asset', code: '1002' },
  { role: 'payment_clearing', type: 'asset', code: '1012' },
] as const
export type PostingRole = (typeof POSTING_ROLES)[number]['role']

export const STRATEGIES = [
  'due_date_order',
  'penalty_fee_interest_principal',
  'principal_interest_penalty_fee',
  'interest_principal_penalty_fee',
  'interest_principal_penalty_fee_across_installments',
] as const

export interface FeeForm {
  name: string
  kind: FeeKind
  basis: 'amount' | 'percent'
  value: string
  payee: Payee
  /** What a percent is a percent of. */
  of: 'principal' | 'installment'
  waivable: boolean
}

export interface ApprovalRowForm {
  up_to_amount: string
  worst_grade: Grade
  levels: number
}

export interface ProductForm {
  name_zh: string
  name_en: string
  amount_min: string
  amount_max: string
  period_unit: 'day' | 'week' | 'month'
  term_min: number
  term_max: number
  repayment_methods: RepaymentMethodName[]
  rate_kind: 'fixed' | 'by_grade'
  annual_rate: string
  grades: Record<Grade, string>
  day_count: (typeof DAY_COUNTS)[number]
  interest_method: 'declining_balance' | 'flat'
  business_day_rule: NonNullable<ProductTerms['business_day_rule']>
  fees: FeeForm[]
  penalty_basis: 'uplift' | 'margin' | 'fixed'
  penalty_value: string
  penalty_compound: boolean
  penalty_grace_days: number
  /** 滞纳金: charged once on an installment still unpaid after some days (off: none). */
  late_fee_on: boolean
  late_fee_amount: string
  late_fee_percent: string
  late_fee_after_days: number
  grace_on_principal_periods: number
  grace_on_interest_payment_periods: number
  allocation_strategy: (typeof STRATEGIES)[number]
  recalculation: boolean
  recalculation_rest: 'daily' | 'same_as_repayment' | 'weekly' | 'monthly'
  recalculation_compounding: 'none' | 'interest' | 'fees' | 'interest_and_fees'
  recalculation_pre_closure: 'till_pre_closure_date' | 'till_rest_date'
  customer_types: CustomerType[]
  age_min: number
  age_max: number
  required_documents: DocumentType[]
  approval_policy: ApprovalRowForm[]
  /** A limit per grade (risk-based limits); off: every grade up to amount_max. */
  limits_on: boolean
  limits: Record<Grade, string>
  /** The largest debt-service ratio after the loan, in percent of income; empty: no bound. */
  max_dsr_percent: string
  group_lending: boolean
  /** Above this, a branch repayment of the product's loans waits for a second person; '' the institution's. */
  repayment_approval_above: string
  change_approval_above: string
  /** The product's own account per posting role; '' keeps the default chart's. */
  accounts: Record<PostingRole, string>
  tranches: boolean
  /** The payouts the product plans: days after the first payout (the first 0), percent of the approved amount. */
  planned_tranches: { after_days: number; percent: string }[]
  down_payment_percent: string
  down_payment_collected: boolean
  active_from: string
  active_to: string
}

/** A new product's form: sensible defaults an administrator then changes. */
export function emptyForm(firstDay: string): ProductForm {
  return {
    name_zh: '', name_en: '', amount_min: '1000.00', amount_max: '50000.00', period_unit: 'month',
    term_min: 3, term_max: 12, repayment_methods: ['equal_installment'], rate_kind: 'fixed', annual_rate: '10',
    grades: { A: '8', B: '9', C: '10', D: '11', E: '12' }, day_count: 'ACT/360', interest_method: 'declining_balance',
    business_day_rule: 'following', fees: [], penalty_basis: 'uplift', penalty_value: '50', penalty_compound: false,
    penalty_grace_days: 3, late_fee_on: false, late_fee_amount: '20.00', late_fee_percent: '0', late_fee_after_days: 5,
    grace_on_principal_periods: 0, grace_on_interest_payment_periods: 0,
    allocation_strategy: 'due_date_order', recalculation: false, recalculation_rest: 'daily',
    recalculation_compounding: 'none', recalculation_pre_closure: 'till_pre_closure_date',
    customer_types: ['consumer'], age_min: 18, age_max: 65, required_documents: ['id_card'],
    approval_policy: [{ up_to_amount: '50000.00', worst_grade: 'E', levels: 1 }], group_lending: false,
    limits_on: false, limits: { A: '50000.00', B: '50000.00', C: '50000.00', D: '50000.00', E: '50000.00' },
    max_dsr_percent: '',
    tranches: false, planned_tranches: [], down_payment_percent: '', down_payment_collected: false,
    accounts: Object.fromEntries(POSTING_ROLES.map((r) => [r.role, ''])) as Record<PostingRole, string>,
    repayment_approval_above: '',
    change_approval_above: '',
    active_from: firstDay, active_to: '',
  }
}

/** The form of a version's terms (to edit a draft or start the next version from it). */
export function formFromTerms(terms: ProductTerms): ProductForm {
  const grades = terms.rate.grades as Record<Grade, string> | null | undefined
  const fallback = emptyForm(terms.active_from)
  return {
    ...fallback,
    name_zh: terms.name_zh, name_en: terms.name_en, amount_min: terms.amount_min, amount_max: terms.amount_max,
    period_unit: terms.period_unit ?? 'month', term_min: terms.term_min, term_max: terms.term_max,
    repayment_methods: [...terms.repayment_methods], rate_kind: terms.rate.kind,
    annual_rate: terms.rate.annual_rate ?? (grades ? grades.E : fallback.annual_rate),
    grades: grades ? { ...grades } : { ...fallback.grades, E: terms.rate.annual_rate ?? fallback.grades.E },
    day_count: terms.day_count ?? 'ACT/360', interest_method: terms.interest_method ?? 'declining_balance',
    business_day_rule: terms.business_day_rule ?? 'following',
    fees: (terms.fees ?? []).map((f) => ({
      name: f.name, kind: f.kind, payee: f.payee,
      basis: f.amount != null ? 'amount' : 'percent', value: (f.amount ?? f.percent ?? '') as string,
      of: f.basis ?? 'principal', waivable: f.waivable ?? true,
    })),
    penalty_basis: terms.penalty.basis, penalty_value: terms.penalty.value_percent,
    penalty_compound: terms.penalty.compound_overdue_interest ?? false, penalty_grace_days: terms.penalty.grace_days ?? 0,
    late_fee_on: !!terms.penalty.late_fee,
    late_fee_amount: terms.penalty.late_fee?.amount ?? fallback.late_fee_amount,
    late_fee_percent: terms.penalty.late_fee?.percent ?? fallback.late_fee_percent,
    late_fee_after_days: terms.penalty.late_fee?.after_days ?? fallback.late_fee_after_days,
    grace_on_principal_periods: terms.grace_on_principal_periods ?? 0,
    grace_on_interest_payment_periods: terms.grace_on_interest_payment_periods ?? 0,
    allocation_strategy: terms.allocation_strategy ?? 'due_date_order',
    recalculation: !!terms.recalculation,
    recalculation_rest: terms.recalculation?.rest ?? 'daily',
    recalculation_compounding: terms.recalculation?.compounding ?? 'none',
    recalculation_pre_closure: terms.recalculation?.pre_closure ?? 'till_pre_closure_date',
    customer_types: [...terms.customer_types], age_min: terms.age_min ?? 18, age_max: terms.age_max ?? 65,
    required_documents: [...(terms.required_documents ?? [])],
    approval_policy: terms.approval_policy.map((r) => ({ up_to_amount: r.up_to_amount, worst_grade: r.worst_grade, levels: r.levels })),
    limits_on: !!terms.limits,
    limits: terms.limits ? { ...(terms.limits as Record<Grade, string>) } : Object.fromEntries(GRADES.map((g) => [g, terms.amount_max])) as Record<Grade, string>,
    max_dsr_percent: terms.max_dsr_percent ?? '',
    group_lending: terms.group_lending ?? false, active_from: terms.active_from, active_to: terms.active_to ?? '',
    tranches: terms.tranches ?? false, down_payment_percent: terms.down_payment_percent ?? '',
    planned_tranches: (terms.planned_tranches ?? []).map((p) => ({ after_days: p.after_days, percent: p.percent })),
    down_payment_collected: terms.down_payment_collected ?? false,
    accounts: { ...fallback.accounts, ...(terms.accounts ?? {}) },
    repayment_approval_above: terms.repayment_approval_above ?? '',
    change_approval_above: terms.change_approval_above ?? '',
  }
}

/** The API's version terms of the form. */
export function termsFromForm(form: ProductForm): ProductTerms {
  return {
    name_zh: form.name_zh.trim(), name_en: form.name_en.trim(), currency: 'CNY',
    amount_min: form.amount_min.trim(), amount_max: form.amount_max.trim(), period_unit: form.period_unit,
    term_min: form.term_min, term_max: form.term_max, repayment_methods: [...form.repayment_methods],
    rate: form.rate_kind === 'fixed'
      ? { kind: 'fixed', annual_rate: form.annual_rate.trim() }
      : { kind: 'by_grade', grades: Object.fromEntries(GRADES.map((g) => [g, form.grades[g].trim()])) },
    day_count: form.day_count, interest_method: form.interest_method, business_day_rule: form.business_day_rule,
    fees: form.fees.map((f) => ({
      name: f.name.trim(), kind: f.kind, payee: f.payee, waivable: f.waivable,
      ...(f.basis === 'amount' ? { amount: f.value.trim() } : { percent: f.value.trim() }),
      ...(f.basis === 'percent' && f.of === 'installment' && f.kind === 'per_installment' ? { basis: 'installment' as const } : {}),
    })),
    penalty: { basis: form.penalty_basis, value_percent: form.penalty_value.trim(),
      compound_overdue_interest: form.penalty_compound, grace_days: form.penalty_grace_days,
      late_fee: form.late_fee_on
        ? { amount: form.late_fee_amount.trim() || '0.00', percent: form.late_fee_percent.trim() || '0',
            after_days: form.late_fee_after_days }
        : null },
    grace_on_principal_periods: form.grace_on_principal_periods,
    grace_on_interest_payment_periods: form.grace_on_interest_payment_periods,
    allocation_strategy: form.allocation_strategy,
    recalculation: form.recalculation
      ? { rest: form.recalculation_rest, compounding: form.recalculation_compounding, pre_closure: form.recalculation_pre_closure }
      : null,
    customer_types: [...form.customer_types], age_min: form.age_min, age_max: form.age_max,
    required_documents: [...form.required_documents],
    approval_policy: form.approval_policy.map((r) => ({ up_to_amount: r.up_to_amount.trim(), worst_grade: r.worst_grade, levels: r.levels })),
    limits: form.limits_on ? Object.fromEntries(GRADES.map((g) => [g, form.limits[g].trim()])) : null,
    max_dsr_percent: form.max_dsr_percent.trim() || null,
    group_lending: form.group_lending, active_from: form.active_from, active_to: form.active_to || null,
    tranches: form.tranches, down_payment_percent: form.down_payment_percent.trim() || null,
    planned_tranches: form.tranches ? form.planned_tranches.map((p) => ({ after_days: p.after_days, percent: p.percent.trim() })) : [],
    down_payment_collected: form.down_payment_percent.trim() ? form.down_payment_collected : false,
    accounts: Object.fromEntries(POSTING_ROLES.map((r) => [r.role, form.accounts[r.role].trim()]).filter(([, code]) => code)),
    repayment_approval_above: form.repayment_approval_above.trim() || null,
    change_approval_above: form.change_approval_above.trim() || null,
  }
}

/** The form field a server error names: "terms.amount_max" → "amount_max"; a rate field stays dotted. */
export function formField(apiField: string): string {
  return apiField.replace(/^terms\./, '')
}

/** The server's field errors keyed by the form's field names. */
export function formErrors(errors: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).map(([k, v]) => [formField(k), v]))
}

const DECIMAL = /^\d+(\.\d{1,2})?$/
const RATE = /^\d+(\.\d{1,6})?$/

/** What is wrong with the form before the server is asked (field → i18n key); empty when nothing. */
export function formProblems(form: ProductForm): Record<string, string> {
  const out: Record<string, string> = {}
  if (!form.name_zh.trim()) out.name_zh = 'validation.required'
  if (!form.name_en.trim()) out.name_en = 'validation.required'
  if (!DECIMAL.test(form.amount_min.trim())) out.amount_min = 'products.errors.amount'
  if (!DECIMAL.test(form.amount_max.trim())) out.amount_max = 'products.errors.amount'
  else if (!out.amount_min && Number(form.amount_max) < Number(form.amount_min)) out.amount_max = 'products.errors.maxBelowMin'
  if (form.term_max < form.term_min) out.term_max = 'products.errors.maxBelowMin'
  if (!form.repayment_methods.length) out.repayment_methods = 'validation.required'
  if (form.rate_kind === 'fixed') {
    if (!RATE.test(form.annual_rate.trim())) out['rate.annual_rate'] = 'products.errors.rate'
  } else {
    for (const g of GRADES) if (!RATE.test(form.grades[g].trim())) out[`rate.grades.${g}`] = 'products.errors.rate'
    const rates = GRADES.map((g) => Number(form.grades[g]))
    if (!GRADES.some((g) => out[`rate.grades.${g}`]) && rates.some((r, i) => i > 0 && r < rates[i - 1])) out['rate.grades'] = 'products.errors.gradesOrder'
  }
  form.fees.forEach((f, i) => {
    if (!f.name.trim()) out[`fees.${i}.name`] = 'validation.required'
    if (!(f.basis === 'amount' ? DECIMAL : RATE).test(f.value.trim())) out[`fees.${i}.${f.basis === 'amount' ? 'amount' : 'percent'}`] = 'products.errors.amount'
  })
  if (form.age_max < form.age_min) out.age_max = 'products.errors.maxBelowMin'
  if (!form.customer_types.length) out.customer_types = 'validation.required'
  if (!form.approval_policy.length) out.approval_policy = 'validation.required'
  if (form.limits_on) {
    for (const g of GRADES) if (!DECIMAL.test(form.limits[g].trim())) out[`limits.${g}`] = 'products.errors.amount'
    const limits = GRADES.map((g) => Number(form.limits[g]))
    if (!GRADES.some((g) => out[`limits.${g}`]) && limits.some((l, i) => i > 0 && l > limits[i - 1])) out.limits = 'products.errors.limitsOrder'
  }
  if (form.max_dsr_percent.trim() && !(RATE.test(form.max_dsr_percent.trim()) && Number(form.max_dsr_percent) > 0 && Number(form.max_dsr_percent) <= 100)) out.max_dsr_percent = 'products.errors.dsr'
  if (!form.active_from) out.active_from = 'validation.required'
  if (form.active_to && form.active_from && form.active_to < form.active_from) out.active_to = 'products.errors.maxBelowMin'
  return out
}

/** "8 % – 12 %" or "10 %" for an offer's rate range (numbers as the server wrote them). */
export function rateRange(offer: Pick<ProductOfferRead, 'rate_min_percent' | 'rate_max_percent'>): string {
  return offer.rate_min_percent === offer.rate_max_percent
    ? `${offer.rate_min_percent}%`
    : `${offer.rate_min_percent}% – ${offer.rate_max_percent}%`
}

/** Call `fn` once, `ms` after the last of a burst of calls. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  const wrapped = (...args: A) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
  wrapped.cancel = () => clearTimeout(timer)
  return wrapped
}
