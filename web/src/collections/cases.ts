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

export type Template = components['schemas']['SmsTemplateRead']
export type Agency = components['schemas']['AgencyRead']

/** What the sender fills in a collection SMS template (the API refuses any other placeholder). */
export const PLACEHOLDERS = ['name', 'loan', 'dpd', 'amount'] as const

/** The placeholders a template's text names, or null when its braces do not pair ({{ and }} are literal). */
export function placeholdersIn(text: string): string[] | null {
  const names: string[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      i++
      continue
    }
    if (c === '}') return null
    if (c !== '{') continue
    const end = text.indexOf('}', i)
    const inner = end < 0 ? '' : text.slice(i + 1, end)
    if (end < 0 || inner.includes('{')) return null
    names.push(inner.split(/[!:]/)[0])
    i = end
  }
  return names
}

/** "HH:MM" to minutes after midnight, or null when it is not a time of day. */
export function minutesOf(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim())
  return m ? Number(m[1]) * 60 + Number(m[2]) : null
}

function quietAt(minute: number, start: number, end: number): boolean {
  return start > end ? minute >= start || minute < end : start <= minute && minute < end
}

/** Which end of the quiet hours leaves part of 22:00–08:00 open (the API's `quiet_hours_short`), if either. */
export function quietShortAt(start: number, end: number): 'quiet_from_minute' | 'quiet_until_minute' | null {
  for (let m = 22 * 60; m < 24 * 60; m++) if (!quietAt(m, start, end)) return 'quiet_from_minute'
  for (let m = 0; m < 8 * 60; m++) if (!quietAt(m, start, end)) return 'quiet_until_minute'
  return null
}

/** A problem the rules form finds before sending: the i18n key (under collection.check) and its values. */
export interface Finding {
  key: string
  values?: Record<string, string>
}

/** What the rules screen can tell before the API does, by the API's field names (sms_templates.0.zh …). */
export function checkRules(rules: {
  quiet_from: string
  quiet_until: string
  sms_templates: Template[]
  agencies: Agency[]
}): Record<string, Finding> {
  const out: Record<string, Finding> = {}
  const from = minutesOf(rules.quiet_from)
  const until = minutesOf(rules.quiet_until)
  if (from === null) out.quiet_from_minute = { key: 'time' }
  if (until === null) out.quiet_until_minute = { key: 'time' }
  if (from !== null && until !== null) {
    const short = quietShortAt(from, until)
    if (short) out[short] = { key: 'quietShort' }
  }
  const codes = new Set<string>()
  rules.sms_templates.forEach((tpl, i) => {
    if (!/^[a-z][a-z0-9_]*$/.test(tpl.code)) out[`sms_templates.${i}.code`] = { key: 'code' }
    else if (codes.has(tpl.code)) out[`sms_templates.${i}.code`] = { key: 'duplicate' }
    codes.add(tpl.code)
    for (const lang of ['zh', 'en'] as const) {
      const text = tpl[lang]
      if (!text.trim()) {
        out[`sms_templates.${i}.${lang}`] = { key: 'required' }
        continue
      }
      const names = placeholdersIn(text)
      const unknown = names?.find((n) => !(PLACEHOLDERS as readonly string[]).includes(n))
      if (names === null) out[`sms_templates.${i}.${lang}`] = { key: 'braces' }
      else if (unknown !== undefined) out[`sms_templates.${i}.${lang}`] = { key: 'placeholder', values: { name: `{${unknown}}` } }
    }
  })
  const names = new Set<string>()
  rules.agencies.forEach((a, i) => {
    if (!a.name.trim()) out[`agencies.${i}.name`] = { key: 'required' }
    else if (names.has(a.name.trim())) out[`agencies.${i}.name`] = { key: 'duplicate' }
    names.add(a.name.trim())
    const pct = (a.commission_percent ?? '').trim()
    if (pct && !/^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$/.test(pct)) out[`agencies.${i}.commission_percent`] = { key: 'percent' }
    if (!a.stages.length) out[`agencies.${i}.stages`] = { key: 'stagesRequired' }
  })
  return out
}
