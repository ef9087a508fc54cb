// Locale-aware display of money, rates and dates. Money arrives as a decimal string ("8000.00") and is
// formatted as text (digit grouping on the string), never through a binary float.

export type Locale = 'zh-CN' | 'en'

const MONEY_RE = /^(-)?(\d+)(?:\.(\d+))?$/

/** "1234.5" → "¥1,234.50" (both languages use ¥ for CNY). Non-numbers come back unchanged; null → "—". */
export function formatMoney(value: string | null | undefined, _locale: Locale = 'zh-CN', symbol = '¥'): string {
  if (value === null || value === undefined || value === '') return '—'
  const m = MONEY_RE.exec(String(value).trim())
  if (!m) return String(value)
  const [, minus, whole, fraction = ''] = m
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const cents = fraction.length >= 2 ? fraction.slice(0, 2) : fraction.padEnd(2, '0')
  return `${minus ? '-' : ''}${symbol}${grouped}.${cents}`
}

/**
 * A fraction as a percentage with `digits` places, e.g. "0.120000000000" → "12.00%".
 * Computed on the decimal string: shift the point two places, then round half-up.
 */
export function formatFractionAsPercent(value: string | null | undefined, locale: Locale = 'zh-CN', digits = 2): string {
  if (value === null || value === undefined || value === '') return '—'
  const m = MONEY_RE.exec(String(value).trim())
  if (!m) return String(value)
  const [, minus, whole, fraction = ''] = m
  const padded = fraction.padEnd(2, '0')
  const shiftedWhole = (whole + padded.slice(0, 2)).replace(/^0+(?=\d)/, '')
  return formatPercent(`${minus ?? ''}${shiftedWhole}.${padded.slice(2) || '0'}`, locale, digits)
}

/** A percentage given as a decimal string ("12.5") → "12.50%" with half-up rounding on the string. */
export function formatPercent(value: string | null | undefined, _locale: Locale = 'zh-CN', digits = 2): string {
  if (value === null || value === undefined || value === '') return '—'
  return `${roundDecimalString(String(value).trim(), digits)}%`
}

/** Round a decimal string half-up to `digits` places, without floats. */
export function roundDecimalString(value: string, digits: number): string {
  const m = MONEY_RE.exec(value)
  if (!m) return value
  const [, minus, whole, fraction = ''] = m
  const scaled = BigInt(whole + fraction.padEnd(digits, '0').slice(0, digits))
  const roundUp = fraction.length > digits && Number(fraction[digits]) >= 5
  const n = scaled + (roundUp ? 1n : 0n)
  const text = n.toString().padStart(digits + 1, '0')
  const intPart = digits ? text.slice(0, -digits) : text
  const body = digits ? `${intPart}.${text.slice(-digits)}` : intPart
  return minus && n !== 0n ? `-${body}` : body
}

/** A calendar date "2026-11-25" in the reader's language: 2026年11月25日 / 25 Nov 2026. */
export function formatDate(value: string | null | undefined, locale: Locale = 'zh-CN'): string {
  if (!value) return '—'
  const [y, m, d] = value.slice(0, 10).split('-').map(Number)
  if (!y || !m || !d) return value
  const date = new Date(Date.UTC(y, m - 1, d))
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric',
    month: locale === 'en' ? 'short' : 'long',
    day: 'numeric',
    timeZone: 'UTC',
  }).format(date)
}

/** An instant (ISO timestamp, UTC) in the institution's time zone. */
export function formatDateTime(
  value: string | null | undefined,
  locale: Locale = 'zh-CN',
  timeZone = 'Asia/Shanghai',
): string {
  if (!value) return '—'
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZone,
  }).format(date)
}
