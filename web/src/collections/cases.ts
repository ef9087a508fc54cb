// Types and helpers of the collections screens.
import type { components } from '@/api/client'
import { ApiError } from '@/api/problem'

export type Case = components['schemas']['CaseRead']
export type CaseDetail = components['schemas']['CaseDetail']
export type Action = components['schemas']['ActionRead']
export type ActionCreate = components['schemas']['ActionCreate']
export type Settings = components['schemas']['SettingsRead']
export type Figures = components['schemas']['CollectorFiguresRead']

export const ACTION_KINDS = ['call', 'sms', 'visit', 'promise', 'legal_referral', 'negative_report_notice', 'bureau_report'] as const
export const OUTCOMES = ['reached', 'no_answer', 'busy', 'wrong_number', 'refused', 'switched_off'] as const
export const PARTIES = ['borrower', 'guarantor', 'group_member', 'other'] as const

/** The collection-conduct rule a refusal names (quiet_hours …), if it is one. */
export function ruleOf(error: unknown): string | null {
  return error instanceof ApiError && typeof error.problem.rule === 'string' ? error.problem.rule : null
}

/** "HH:MM" of minutes after midnight. */
export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/** The body of an action: only the fields its kind uses. */
export function actionBody(form: {
  kind: ActionCreate['kind']
  outcome: string
  contact_party: string
  contact_ref: string
  contact_reason: string
  template: string
  notes: string
  promise_date: string
  promise_amount: string
  document_ids?: number[]
}): ActionCreate {
  const body: ActionCreate = { kind: form.kind }
  const contact = form.kind === 'call' || form.kind === 'sms' || form.kind === 'visit'
  if (contact) {
    body.contact_party = form.contact_party as ActionCreate['contact_party']
    if (form.contact_party !== 'borrower') {
      body.contact_ref = form.contact_ref || null
      body.contact_reason = form.contact_reason || null
    }
  }
  if (form.kind === 'call') body.outcome = form.outcome as ActionCreate['outcome']
  if (form.kind === 'visit' && form.document_ids?.length) body.document_ids = [...form.document_ids]
  if (form.kind === 'sms') body.template = form.template
  if (form.kind === 'promise') {
    body.promise_date = form.promise_date
    body.promise_amount = form.promise_amount
  }
  if (form.notes.trim()) body.notes = form.notes.trim()
  return body
}
