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

const INTL_LOCALE: Record<Locale, string> = { 'zh-CN': 'zh-CN', en: 'en-GB' }

/** The parts of a day in the reader's language: 2026年11月25日 / 25 Nov 2026 (one style for dates and date-times). */
const DAY_OPTIONS: Record<Locale, Intl.DateTimeFormatOptions> = {
  'zh-CN': { year: 'numeric', month: 'long', day: 'numeric' },
  en: { year: 'numeric', month: 'short', day: 'numeric' },
}
const TIME_OPTIONS: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }

/** A calendar date "2026-11-25" in the reader's language: 2026年11月25日 / 25 Nov 2026. */
export function formatDate(value: string | null | undefined, locale: Locale = 'zh-CN'): string {
  if (!value) return '—'
  const [y, m, d] = value.slice(0, 10).split('-').map(Number)
  if (!y || !m || !d) return value
  const date = new Date(Date.UTC(y, m - 1, d))
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], { ...DAY_OPTIONS[locale], timeZone: 'UTC' }).format(date)
}

/**
 * An instant (ISO timestamp, UTC) in the institution's time zone, the day written as formatDate writes
 * it: 2026年11月26日 00:30:00 / 26 Nov 2026, 00:30:00.
 */
export function formatDateTime(
  value: string | null | undefined,
  locale: Locale = 'zh-CN',
  timeZone = 'Asia/Shanghai',
): string {
  if (!value) return '—'
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  const day = new Intl.DateTimeFormat(INTL_LOCALE[locale], { ...DAY_OPTIONS[locale], timeZone }).format(date)
  const time = new Intl.DateTimeFormat(INTL_LOCALE[locale], { ...TIME_OPTIONS, timeZone }).format(date)
  return locale === 'en' ? `${day}, ${time}` : `${day} ${time}`
}
