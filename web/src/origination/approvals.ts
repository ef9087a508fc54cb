// The review in levels in the web app: the coded reasons, which acts a reviewer may pick on a
// review, when an override reason is needed, the SLA shown in the queue, and what the borrower reads
// of a review in progress ("level L of N", never who).
import type { components } from '@/api/client'
import { fen } from '@/platform/money'

export type Review = components['schemas']['ReviewRead']
export type ReviewStep = components['schemas']['ReviewStepRead']
export type QueueItem = components['schemas']['QueueItem']
export type ReviewAction = components['schemas']['ReviewActionRequest']['action']
export type DeclineReasonCode = NonNullable<components['schemas']['ReviewActionRequest']['reason_code']>
export type OverrideReasonCode = NonNullable<components['schemas']['ReviewActionRequest']['override_reason']>

export const LEVELS = [1, 2, 3] as const
export const LEVEL_PERMISSION: Record<number, string> = {
  1: 'loan.approve.level1',
  2: 'loan.approve.level2',
  3: 'loan.approve.level3',
}
export const DECLINE_REASONS: DeclineReasonCode[] = [
  'insufficient_income', 'high_debt', 'poor_credit_history', 'unverifiable_information', 'suspected_fraud',
  'purpose_ineligible', 'policy_limit', 'other',
]
export const OVERRIDE_REASONS: OverrideReasonCode[] = [
  'verified_income', 'collateral_offered', 'guarantor_offered', 'long_relationship', 'data_error',
  'adverse_information', 'policy_exception', 'other',
]

/** The levels a holder of `can` may act at. */
export function levelsOf(can: (permission: string) => boolean): number[] {
  return LEVELS.filter((level) => can(LEVEL_PERMISSION[level]!))
}

/** The acts offered on a review: a human review request is only upheld (decline) or overturned (approve). */
export function actionsFor(review: Pick<Review, 'status' | 'human_review'>): ReviewAction[] {
  if (review.status === 'human_review') return ['approve', 'decline']
  if (review.status === 'referred') return ['approve', 'decline', 'request_documents', 'counter_offer']
  return []
}

/** Whether `action` goes against the model here (the API then requires `override_reason`): a counter-offer
 * also does when its amount (`amount`, blank: the amount asked) is still above the product's offer. */
export function needsOverride(
  review: Pick<Review, 'override_needed' | 'offer'>, action: ReviewAction, amount?: string | null,
): boolean {
  if (review.override_needed.includes(action)) return true
  if (action !== 'counter_offer' || !review.offer) return false
  const countered = amount?.trim() ? fen(amount) : null
  const offer = fen(review.offer)
  if (offer === null) return false
  return countered === null ? !amount?.trim() : countered > offer
}

/** The body of an act: only the fields that act uses, with the level and version the reviewer saw. */
export function actionBody(
  review: Pick<Review, 'level' | 'version' | 'override_needed' | 'offer'>,
  form: {
    action: ReviewAction
    reason_code?: string
    override_reason?: string
    note?: string
    needed?: string[]
    amount?: string
    term?: number | null
  },
): components['schemas']['ReviewActionRequest'] {
  const body: Record<string, unknown> = { action: form.action, level: review.level ?? 1, version: review.version }
  if (form.note?.trim()) body.note = form.note.trim()
  if (form.action === 'decline' && form.reason_code) body.reason_code = form.reason_code
  if (form.action === 'request_documents') body.needed = form.needed ?? []
  if (form.action === 'counter_offer') {
    if (form.amount?.trim()) body.amount = form.amount.trim()
    if (form.term) body.term = form.term
  }
  if (needsOverride(review, form.action, form.amount) && form.override_reason) body.override_reason = form.override_reason
  return body as components['schemas']['ReviewActionRequest']
}

/** Time left before the SLA deadline (negative: past it), split for display. */
export function slaLeft(dueAt: string, now: Date): { overdue: boolean; hours: number; minutes: number } {
  const ms = new Date(dueAt).getTime() - now.getTime()
  const abs = Math.abs(ms)
  return { overdue: ms < 0, hours: Math.floor(abs / 3_600_000), minutes: Math.floor((abs % 3_600_000) / 60_000) }
}

/** How long an item has waited at its level, in whole hours and minutes. */
export function waited(seconds: number): { hours: number; minutes: number } {
  return { hours: Math.floor(seconds / 3600), minutes: Math.floor((seconds % 3600) / 60) }
}

/** The steps of the chain in progress (decisions, not notes), and the notes, of a review. */
export function splitSteps(review: Pick<Review, 'chain' | 'steps'>): { chain: ReviewStep[]; earlier: ReviewStep[]; notes: ReviewStep[] } {
  const decisions = review.steps.filter((s) => s.level !== null)
  return {
    chain: decisions.filter((s) => s.chain === review.chain),
    earlier: decisions.filter((s) => s.chain !== review.chain),
    notes: review.steps.filter((s) => s.level === null),
  }
}

/** What the borrower reads of a review in progress: "level L of N" (null when none is in progress). */
export function borrowerProgress(app: { status: string; review_level?: number | null; levels_required: number | null }): { level: number; of: number } | null {
  if (!['referred', 'human_review'].includes(app.status) || !app.review_level) return null
  return { level: app.review_level, of: Math.max(app.review_level, app.levels_required ?? 1) }
}
