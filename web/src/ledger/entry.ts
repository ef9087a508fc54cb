// The manual journal entry form's rules, kept out of the view: amounts counted in fen (integers, never
// floats), the running debit and credit totals and their difference, whether the entry may be
// submitted, the request body, and which line an API field error ("lines.1.account_code") belongs to.
// The API checks the same rule (entry_unbalanced); this only saves a round trip and shows why.
import type { components } from '@/api/client'

export type JournalEntry = components['schemas']['JournalEntryRead']
export type LedgerAccount = components['schemas']['LedgerAccountRead']
export type EntryBody = components['schemas']['JournalEntryCreate']

export interface EntryLine {
  account_code: string
  debit: string
  credit: string
  memo: string
}

const AMOUNT = /^(\d{1,13})(?:\.(\d{1,2}))?$/

/** An amount typed in the form as fen, or null when empty or not a plain positive decimal with ≤ 2 places. */
export function toFen(text: string): number | null {
  const m = AMOUNT.exec(text.trim())
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** Fen as the API's decimal string ("1234.50"); negative with a leading minus. */
export function fenToText(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

export function blankLine(): EntryLine {
  return { account_code: '', debit: '', credit: '', memo: '' }
}

/** What is wrong with one line, if anything (shown beside it): an i18n key under `ledger.line`. */
export function lineProblem(line: EntryLine): 'account' | 'oneSide' | 'amount' | null {
  const hasDebit = line.debit.trim() !== ''
  const hasCredit = line.credit.trim() !== ''
  if (!hasDebit && !hasCredit && !line.account_code) return null // an empty row is ignored
  if (!line.account_code) return 'account'
  if (hasDebit === hasCredit) return 'oneSide'
  const fen = toFen(hasDebit ? line.debit : line.credit)
  return fen === null || fen <= 0 ? 'amount' : null
}

export interface Totals {
  debit: number
  credit: number
  /** debit − credit in fen: zero when the entry balances. */
  difference: number
}

/** The running totals of the lines' valid amounts, in fen. */
export function totals(lines: EntryLine[]): Totals {
  let debit = 0
  let credit = 0
  for (const line of lines) {
    debit += toFen(line.debit) ?? 0
    credit += toFen(line.credit) ?? 0
  }
  return { debit, credit, difference: debit - credit }
}

/** The lines that count: not entirely empty. */
export function filledLines(lines: EntryLine[]): EntryLine[] {
  return lines.filter((l) => l.account_code || l.debit.trim() || l.credit.trim())
}

/**
 * Why the entry cannot be submitted yet (an i18n key under `ledger.block`), or null when it can:
 * every filled line valid, at least one debit and one credit, and Σ debits = Σ credits.
 */
export function blockReason(lines: EntryLine[]): 'lines' | 'twoSides' | 'unbalanced' | null {
  const filled = filledLines(lines)
  if (filled.some((l) => lineProblem(l) !== null)) return 'lines'
  const t = totals(filled)
  if (!filled.some((l) => l.debit.trim()) || !filled.some((l) => l.credit.trim())) return 'twoSides'
  if (t.difference !== 0) return 'unbalanced'
  return null
}

/** The API request of the form (filled lines only, amounts as the API's strings). */
export function entryBody(form: { business_date: string; description: string; basis: EntryBody['basis']; lines: EntryLine[] }): EntryBody {
  return {
    business_date: form.business_date,
    description: form.description.trim(),
    basis: form.basis,
    lines: filledLines(form.lines).map((l) => ({
      account_code: l.account_code,
      debit: l.debit.trim() ? fenToText(toFen(l.debit) ?? 0) : null,
      credit: l.credit.trim() ? fenToText(toFen(l.credit) ?? 0) : null,
      memo: l.memo.trim() || null,
    })),
  }
}

/**
 * The API's field errors sorted to where the form shows them: `lines.N.*` to filled line N (mapped back
 * to the row it came from), `lines` (entry_unbalanced) beside the lines as a whole, anything else by name.
 */
export function placeErrors(
  lines: EntryLine[],
  fieldErrors: Record<string, string>,
): { byRow: Record<number, string>; lines: string | null; other: Record<string, string> } {
  const rows = lines.map((l, i) => ({ l, i })).filter(({ l }) => filledLines([l]).length > 0).map(({ i }) => i)
  const byRow: Record<number, string> = {}
  const other: Record<string, string> = {}
  let whole: string | null = null
  for (const [field, message] of Object.entries(fieldErrors)) {
    const m = /^lines\.(\d+)(?:\.|$)/.exec(field)
    if (m && rows[Number(m[1])] !== undefined) byRow[rows[Number(m[1])]] = message
    else if (field === 'lines') whole = message
    else other[field] = message
  }
  return { byRow, lines: whole, other }
}

/** The accounts a line may post to: active ones, by code (a header may be posted to as well). */
export function postable(accounts: LedgerAccount[]): LedgerAccount[] {
  return accounts.filter((a) => a.status === 'active').sort((a, b) => a.code.localeCompare(b.code))
}

export interface AccountNode extends LedgerAccount {
  children?: AccountNode[]
}

/** The chart as a tree (children under their parent, by code) for el-table's tree rows. */
export function accountTree(accounts: LedgerAccount[]): AccountNode[] {
  const nodes = new Map<number, AccountNode>(accounts.map((a) => [a.id, { ...a }]))
  const roots: AccountNode[] = []
  for (const a of [...accounts].sort((x, y) => x.code.localeCompare(y.code))) {
    const node = nodes.get(a.id)!
    const parent = a.parent_id ? nodes.get(a.parent_id) : undefined
    if (parent) (parent.children ??= []).push(node)
    else roots.push(node)
  }
  return roots
}
