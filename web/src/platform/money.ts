// Money in the web app is the API's decimal string ("1234.50", CNY); where a screen must compare or add
// amounts it does so in integer fen, never in floating point.

const MONEY = /^(-)?(\d+)(?:\.(\d{1,2}))?$/

/** A decimal money string as integer fen (null when it is not one). */
export function fen(value: string | null | undefined): number | null {
  const m = MONEY.exec(String(value ?? '').trim())
  if (!m) return null
  const n = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'))
  return m[1] ? -n : n
}

/** Fen as the API's decimal string ("1234.50"). */
export function money(fenValue: number): string {
  const abs = Math.abs(fenValue)
  return `${fenValue < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}
