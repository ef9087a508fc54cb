// Types and helpers of the early-warning screens (the queue, a warning, the panel on a loan's page).
import type { components } from '@/api/client'

export type Warning = components['schemas']['RiskWarningRead']
export type WarningDetail = components['schemas']['RiskWarningDetail']
export type Score = components['schemas']['ScoreRead']
export type Thresholds = components['schemas']['ThresholdsRead']

export const RULES = ['score_drop', 'first_missed_payment', 'repeated_partial_payments', 'bureau_delinquency', 'concentration'] as const
export const STATUSES = ['open', 'proposed', 'actioned', 'dismissed'] as const
export const LOAN_ACTIONS = ['freeze_limit', 'step_up_collection', 'ask_guarantor', 'call_early'] as const
export const THRESHOLD_FIELDS = [
  'score_drop_points', 'score_drop_days', 'first_missed_dpd', 'partial_installments', 'bureau_refresh_days',
  'concentration_min_loans', 'concentration_share', 'cooldown_days',
] as const

/** The actions that apply to a warning: a loan's four, or a portfolio's review. */
export function actionsFor(w: Pick<Warning, 'loan_id'>): string[] {
  return w.loan_id !== null ? [...LOAN_ACTIONS] : ['review_portfolio']
}

/** The tag colour of a warning's status. */
export function statusTag(status: Warning['status']): 'danger' | 'warning' | 'success' | 'info' {
  return ({ open: 'danger', proposed: 'warning', actioned: 'success', dismissed: 'info' } as const)[status]
}

/** What a group warning is about ("branch:3" → kind and key), or null for a loan's. */
export function groupOf(w: Pick<Warning, 'subject' | 'loan_id'>): { kind: string; key: string } | null {
  if (w.loan_id !== null) return null
  const [kind, ...rest] = w.subject.split(':')
  return { kind: kind ?? '', key: rest.join(':') }
}

/** The parameters of a rule's explanation: the details, numbers as they are. */
export function detailParams(w: Pick<Warning, 'details'>): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(w.details)) if (typeof v === 'string' || typeof v === 'number') out[k] = v
  return out
}
