// In-app notifications: the API sends a template key and its parameters; the text is rendered here,
// from the catalogues (inbox.template.*), in the reader's language. A tap leads to the subject.
import type { RouteLocationRaw } from 'vue-router'
import type { components } from '@/api/client'

export type InboxMessage = components['schemas']['InboxMessageRead']
export type InboxPage = components['schemas']['InboxPage']

/** The templates the app can render (the API's `notifications.service.INBOX_TEMPLATES`). */
export const TEMPLATES = [
  'application_submitted', 'application_returned', 'application_approved', 'application_declined', 'group_consent_requested', 'group_member_left',
  'application_counter_offer', 'application_human_review', 'contract_ready', 'contract_signed',
  'loan_disbursed', 'loan_repayment_recorded', 'loan_closed', 'loan_cancelled', 'early_warning_raised', 'guarantor_requested',
  'loan_accelerated',
] as const

/** The catalogue key of a message's text (an unknown template gets a generic text, never a raw key). */
export function textKey(m: Pick<InboxMessage, 'template'>): string {
  return (TEMPLATES as readonly string[]).includes(m.template) ? `inbox.template.${m.template}` : 'inbox.template.unknown'
}

/** The parameters of a message's text, amounts formatted for the reader. */
export function textParams(m: Pick<InboxMessage, 'params'>, money: (v: string) => string): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(m.params)) {
    if (v === null || v === undefined) continue
    out[k] = k === 'amount' && typeof v === 'string' ? money(v) : typeof v === 'boolean' ? String(v) : v
  }
  return out
}

/** Where a tap on a message leads in the borrower app (none: it is about nothing to open). */
export function subjectRoute(m: Pick<InboxMessage, 'subject_kind' | 'subject_id'> & Partial<Pick<InboxMessage, 'template'>>): RouteLocationRaw | null {
  // An early warning (staff) leads to the warning in the staff console.
  if (m.subject_kind === 'risk_warning' && m.subject_id) return { name: 'staff-risk-warning', params: { id: m.subject_id } }
  if (m.subject_kind === 'application' && m.subject_id) return { name: 'my-application', params: { id: m.subject_id } }
  // A repayment received leads to the loan's receipts (its PDF is there); the rest to the loan.
  if (m.subject_kind === 'loan' && m.subject_id)
    return { name: 'my-loan', params: { id: m.subject_id }, ...(m.template === 'loan_repayment_recorded' ? { hash: '#my-receipts' } : {}) }
  return null
}
