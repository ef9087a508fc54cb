// A group meeting's collection sheet (小组例会收款表) in the console: the amounts the officer keys per line, the
// totals that follow them, and the body saved. Money stays decimal strings, summed exactly in minor units.
import type { components } from '@/api/client'

export type Sheet = components['schemas']['CollectionSheetRead']
export type SheetLine = Sheet['lines'][number]
export type Saved = components['schemas']['CollectionSheetSavedRead']
export type Reason = NonNullable<components['schemas']['CollectionSheetLine']['reason']>

export const REASONS: Reason[] = ['absent', 'refused', 'no_money', 'paid_elsewhere', 'other']

/** One line as edited: the amount collected (prefilled with the total to collect) and why less was collected. */
export interface Edit {
  amount: string
  reason: Reason | null
}

const AMOUNT = /^(\d{1,9})(?:\.(\d{1,2}))?$/

/** The amount in minor units, or null when it is not a plain amount of at most two decimals. */
export function cents(amount: string): bigint | null {
  const m = AMOUNT.exec(amount.trim())
  return m ? BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0')) : null
}

function text(value: bigint): string {
  const s = value.toString().padStart(3, '0')
  return `${s.slice(0, -2)}.${s.slice(-2)}`
}

/** Each line prefilled: the whole total to collect, no reason. */
export function prefill(sheet: Sheet): Edit[] {
  return sheet.lines.map((line) => ({ amount: line.total, reason: null }))
}

/** Whether the line collects less than its total (a reason may be given). */
export function isShort(line: SheetLine, edit: Edit): boolean {
  const got = cents(edit.amount)
  const total = cents(line.total)
  return got !== null && total !== null && got < total
}

/** The totals that follow the edits: to collect, collected (amounts not yet valid left out), lines not paid. */
export function totals(sheet: Sheet, edits: Edit[]): { toCollect: string; collected: string; notPaid: number; invalid: number } {
  let toCollect = 0n
  let collected = 0n
  let notPaid = 0
  let invalid = 0
  sheet.lines.forEach((line, i) => {
    toCollect += cents(line.total) ?? 0n
    const got = cents(edits[i]?.amount ?? '')
    if (got === null) invalid += 1
    else if (got === 0n) notPaid += 1
    else collected += got
  })
  return { toCollect: text(toCollect), collected: text(collected), notPaid, invalid }
}

/** The body saved: every line with its amount, and a reason only where less was collected. */
export function sheetBody(sheet: Sheet, edits: Edit[]): components['schemas']['CollectionSheetCreate'] {
  return {
    date: sheet.meeting_date,
    lines: sheet.lines.map((line, i) => {
      const edit = edits[i]
      const amount = edit.amount.trim()
      return isShort(line, edit) && edit.reason ? { loan_id: line.loan_id, amount, reason: edit.reason } : { loan_id: line.loan_id, amount }
    }),
  }
}

/** How what finance counts compares with what the sheet collected: even, short or over by `amount`; null while
 * the count is not a plain amount. A shortage needs a reason (the officer owes it); an overage goes to suspense. */
export function handoverDifference(collected: string, counted: string): { kind: 'even' | 'short' | 'over'; amount: string } | null {
  const want = cents(collected)
  const got = cents(counted)
  if (want === null || got === null) return null
  if (got === want) return { kind: 'even', amount: '0.00' }
  return got < want ? { kind: 'short', amount: text(want - got) } : { kind: 'over', amount: text(got - want) }
}

/** The handover's body: the count as typed (trimmed), and the reason only when one is given. */
export function handoverBody(counted: string, reason: string): components['schemas']['HandoverCreate'] {
  const why = reason.trim()
  return why ? { counted: counted.trim(), reason: why } : { counted: counted.trim() }
}
