// Loan applications in the web app: the coded lists, how a status or a rule outcome is shown, the
// rule results grouped by stage, and the device id the API records with each application.
import type { components } from '@/api/client'
import { uuid4 } from '@/platform/uuid'

export type MyApplication = components['schemas']['MyApplicationRead']
export type ApplicationDetail = components['schemas']['ApplicationDetail']
export type ApplicationSummary = components['schemas']['ApplicationSummary']
export type TimelineEvent = components['schemas']['EventRead']
export type RuleResult = components['schemas']['ApplicationRuleResultRead']
export type Purpose = components['schemas']['ApplicationCreate']['purpose']
export type Employment = NonNullable<components['schemas']['ApplicationCreate']['employment']>
export type Status = ApplicationSummary['status']

export const PURPOSES: Purpose[] = ['business', 'agriculture', 'consumption', 'education', 'medical', 'renovation', 'vehicle', 'other']
export const EMPLOYMENTS: Employment[] = ['employed', 'self_employed', 'farmer', 'business_owner', 'student', 'retired', 'unemployed', 'other']
export const STATUSES: Status[] = ['draft', 'submitted', 'approved', 'declined', 'referred', 'returned', 'withdrawn', 'counter_offered', 'human_review']
export const STAGES = ['completeness', 'eligibility', 'identity', 'bureau', 'knockout', 'fraud', 'score', 'decision']

type Tag = 'success' | 'danger' | 'warning' | 'info' | 'primary'

/** The tag colour of a status. */
export function statusTag(status: string): Tag {
  return ({ approved: 'success', declined: 'danger', returned: 'warning', referred: 'primary', counter_offered: 'warning', human_review: 'primary' } as Record<string, Tag>)[status] ?? 'info'
}

/** The tag colour of a rule's outcome. */
export function outcomeTag(outcome: string): Tag {
  return ({ pass: 'success', fail: 'danger', flag: 'warning', missing: 'warning' } as Record<string, Tag>)[outcome] ?? 'info'
}

/** A borrower may still withdraw (before a decision). */
export function canWithdraw(status: string): boolean {
  return ['draft', 'submitted', 'returned', 'referred', 'counter_offered', 'human_review'].includes(status)
}

/** The results of the last submission, by stage in the order the review runs them (unknown stages last). */
export function byStage(results: RuleResult[]): { stage: string; results: RuleResult[] }[] {
  const last = Math.max(0, ...results.map((r) => r.submission))
  const current = results.filter((r) => r.submission === last)
  const stages = [...STAGES, ...new Set(current.map((r) => r.stage).filter((s) => !STAGES.includes(s)))]
  return stages.map((stage) => ({ stage, results: current.filter((r) => r.stage === stage) })).filter((g) => g.results.length > 0)
}

const DEVICE_KEY = 'mc.device-id'

/** This browser's device id: made once, kept in localStorage (sent as X-Device-Id with applications). */
export function deviceId(storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage): string {
  try {
    const known = storage?.getItem(DEVICE_KEY)
    if (known && /^[A-Za-z0-9-]{8,64}$/.test(known)) return known
    const made = uuid4()
    storage?.setItem(DEVICE_KEY, made)
    return made
  } catch {
    return uuid4() // storage refused (private mode): a fresh id, not kept
  }
}
