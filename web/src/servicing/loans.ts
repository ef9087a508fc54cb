// Loans in the web app: how a loan's status and each installment of its schedule are shown, the next
// payment, the payments' allocation lines, each event's ledger entries, and the Idempotency-Key that one
// user action keeps across its retries. Money stays a decimal string; sums go through integer fen.
import type { components } from '@/api/client'
import { uuid4 } from '@/platform/uuid'
import { fen, money } from '@/platform/money'

export { fen, money } from '@/platform/money'

export type LoanSummary = components['schemas']['LoanSummary']
export type LoanRead = components['schemas']['LoanRead']
export type LoanState = components['schemas']['LoanStateRead']
export type Installment = components['schemas']['LoanInstallmentRead']
export type Payment = components['schemas']['PaymentRead']
export type LoanEvent = components['schemas']['LoanEventRead']
export type Desk = components['schemas']['DeskRead']
export type LoanStatus = LoanSummary['status']
export type Channel = NonNullable<components['schemas']['RepaymentCreate']['channel']>
export type PrepaymentMode = components['schemas']['PrepaymentCreate']['mode']
export type InstallmentStatus = 'paid' | 'overdue' | 'due' | 'future'

export const LOAN_STATUSES: LoanStatus[] = ['pending_disbursement', 'active', 'closed', 'overpaid', 'written_off', 'cancelled']
/** The channels staff record money through (auto-debit and internal come from the system). */
export const CHANNELS: Channel[] = ['bank_transfer', 'cash', 'mobile_payment']
export const MODES: PrepaymentMode[] = ['shorten_term', 'reduce_installment']
export const COMPONENTS = ['principal', 'interest', 'fee', 'penalty'] as const

type Tag = 'success' | 'danger' | 'warning' | 'info' | 'primary'

/** An amount typed by staff is a positive decimal with at most two places. */
export function isAmount(text: string): boolean {
  return /^\d{1,13}(\.\d{1,2})?$/.test(text.trim()) && (fen(text) ?? 0) > 0
}

/** The tag colour of a loan's status. */
export function loanStatusTag(status: string): Tag {
  return ({ active: 'primary', closed: 'success', overpaid: 'warning', written_off: 'danger', pending_disbursement: 'warning' } as Record<string, Tag>)[status] ?? 'info'
}

/**
 * Where an installment stands on `asOf` (the state's business date): paid when nothing of it is
 * outstanding; overdue when its due date has passed with something left; due when it is the next
 * one to pay (`next`: the number of the first installment not paid and not overdue); future otherwise.
 */
export function installmentStatus(row: Installment, asOf: string, next: number | null): InstallmentStatus {
  if ((fen(row.outstanding.total) ?? 0) <= 0) return 'paid'
  if (row.due_date < asOf) return 'overdue'
  return row.number === next ? 'due' : 'future'
}

/** The number of the next installment to pay that is not overdue yet (null when none is left). */
export function nextNumber(state: Pick<LoanState, 'installments' | 'as_of'>): number | null {
  const row = state.installments.find((r) => (fen(r.outstanding.total) ?? 0) > 0 && r.due_date >= state.as_of)
  return row?.number ?? null
}

export const INSTALLMENT_TAG: Record<InstallmentStatus, Tag> = { paid: 'success', overdue: 'danger', due: 'warning', future: 'info' }

/** The schedule's rows, each with its status. */
export function scheduleRows(state: Pick<LoanState, 'installments' | 'as_of'>): (Installment & { status: InstallmentStatus })[] {
  const next = nextNumber(state)
  return state.installments.map((r) => ({ ...r, status: installmentStatus(r, state.as_of, next) }))
}

export interface NextPayment {
  /** The due date of the next installment (or of the oldest overdue one). */
  due_date: string
  /** What to pay by then: everything overdue plus that installment's outstanding amount. */
  amount: string
  /** Of which overdue. */
  overdue: string
  number: number
}

/** What the borrower should pay next: the overdue amounts, and the next installment's outstanding amount. */
export function nextPayment(state: Pick<LoanState, 'installments' | 'as_of'> | null | undefined): NextPayment | null {
  if (!state) return null
  const open = state.installments.filter((r) => (fen(r.outstanding.total) ?? 0) > 0)
  if (!open.length) return null
  const overdue = open.filter((r) => r.due_date < state.as_of)
  const upcoming = open.find((r) => r.due_date >= state.as_of)
  const overdueFen = overdue.reduce((s, r) => s + (fen(r.outstanding.total) ?? 0), 0)
  const first = overdue[0] ?? upcoming!
  return {
    due_date: first.due_date,
    number: first.number,
    overdue: money(overdueFen),
    amount: money(overdueFen + (upcoming ? fen(upcoming.outstanding.total) ?? 0 : 0)),
  }
}

/** An event that can still be reversed: a money movement (not itself a reversal) not reversed already. */
export function reversible(events: LoanEvent[], reversed: readonly string[] = []): LoanEvent[] {
  const targets = new Set([...reversed, ...events.filter((e) => e.type === 'reversal').map((e) => String(e.payload.target ?? ''))])
  return events.filter((e) => e.type !== 'reversal' && !targets.has(e.event_id))
}

/** The amount an event moved (from its payload), if any. */
export function eventAmount(e: LoanEvent): string | null {
  const a = e.payload.amount
  return typeof a === 'string' ? a : null
}

/** The console's page of a ledger entry. */
export function entryLink(id: number): string {
  return `/staff/ledger/entries/${id}`
}

/**
 * The Idempotency-Key of one user action: made on the first attempt, kept for its retries (a network
 * failure, a 5xx), replaced when the user changes what they ask for or starts another action.
 */
export function actionKey(make: () => string = uuid4) {
  let key: string | null = null
  return {
    /** The key of the current attempt (made once). */
    get(): string {
      key ??= make()
      return key
    },
    /** The next attempt is another action. */
    reset(): void {
      key = null
    },
  }
}

export type LoanChange = components['schemas']['LoanChangeRead']
/** The channels of money taken at a branch: above the institution's threshold, a second person confirms. */
export const BRANCH_CHANNELS: readonly Channel[] = ['cash', 'bank_transfer']

/** Whether a repayment of `amount` by `channel` waits for a second person under `threshold` (null: never). */
export function waitsForSecondPerson(amount: string, channel: Channel, threshold: string | null | undefined): boolean {
  const limit = fen(threshold)
  const value = fen(amount)
  return limit !== null && value !== null && BRANCH_CHANNELS.includes(channel) && value > limit
}

/** Whether a waiver or credit refund of `amount` is recorded at once by its proposer: at or below the loan's
 * `change_approval_above` (its product's, kept on the loan). None set: every change waits for a second person. */
export function changeRecordedAtOnce(amount: string | null | undefined, threshold: string | null | undefined): boolean {
  const limit = fen(threshold)
  const value = fen(amount)
  return limit !== null && value !== null && value <= limit
}

/** The changes proposed in the loan page's change dialog (a rescheduling and a refund have their own). */
export const CHANGE_KINDS = ['waiver', 'deferral', 'write_off'] as const
export type ChangeKind = (typeof CHANGE_KINDS)[number]
/** The coded reasons each kind offers (the API's `ChangeReason`, docs/servicing.md). */
export const CHANGE_REASONS: Record<ChangeKind, readonly ChangeReason[]> = {
  waiver: ['hardship', 'natural_disaster', 'service_failure', 'negotiated_settlement', 'error_correction', 'other'],
  deferral: ['hardship', 'natural_disaster', 'business_disruption', 'negotiated_settlement', 'other'],
  write_off: ['uncollectible', 'deceased', 'bankruptcy', 'statute_expired', 'negotiated_settlement', 'other'],
}
export type ChangeReason = components['schemas']['WaiverChange']['reason_code']
export type WaivedComponent = components['schemas']['WaiverChange']['component']

export interface ChangeForm {
  kind: ChangeKind
  reason_code: ChangeReason
  note: string
  installment: number | null
  component: WaivedComponent
  amount: string
  from_installment: number | null
  periods: number
  interest: 'payable' | 'waived'
  restructuring: boolean
}

/** The body of a proposed change: only the fields of its kind, the amount and note trimmed. */
export function changeBody(form: ChangeForm): components['schemas']['WaiverChange'] | components['schemas']['DeferralChange'] | components['schemas']['WriteOffChange'] {
  const common = { reason_code: form.reason_code, note: form.note.trim() }
  if (form.kind === 'waiver') {
    return { kind: 'waiver', ...common, installment: form.installment ?? 0, component: form.component, amount: form.amount.trim() }
  }
  if (form.kind === 'deferral') {
    return { kind: 'deferral', ...common, from_installment: form.from_installment ?? 0, periods: form.periods, interest: form.interest, restructuring: form.restructuring }
  }
  return { kind: 'write_off', ...common }
}

/** What may be waived of each installment already due: its outstanding interest, fee and penalty. */
export function waivable(state: Pick<LoanState, 'installments' | 'as_of'>): { number: number; due_date: string; interest: string; fee: string; penalty: string }[] {
  return state.installments
    .filter((r) => r.number > 0 && r.due_date <= state.as_of)
    .map((r) => ({ number: r.number, due_date: r.due_date, interest: r.outstanding.interest, fee: r.outstanding.fee, penalty: r.outstanding.penalty }))
    .filter((r) => [r.interest, r.fee, r.penalty].some((v) => (fen(v) ?? 0) > 0))
}

/** The installments a deferral may start at: those not yet due. */
export function deferrable(state: Pick<LoanState, 'installments' | 'as_of'>): { number: number; due_date: string }[] {
  return state.installments.filter((r) => r.number > 0 && r.due_date > state.as_of).map((r) => ({ number: r.number, due_date: r.due_date }))
}

/** An answer to a repayment: recorded (200) or a change waiting for a second person (202). */
export function isPendingChange(answer: object): answer is LoanChange {
  return 'kind' in answer && 'status' in answer && !('loan' in answer)
}

/** Which document an event has: a receipt (money in), a voucher (money out) or none. */
export function documentOf(e: Pick<LoanEvent, 'type' | 'has_document'>): 'receipt' | 'voucher' | null {
  if (!e.has_document) return null
  return ['disbursement', 'refund'].includes(e.type) ? 'voucher' : 'receipt'
}
