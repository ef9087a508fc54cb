// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { formatDate, formatDateTime, formatFractionAsPercent, formatMoney, formatPercent, roundDecimalString } from './format'

describe('money', () => {
  it.each([
    ['1234.56', '¥1,234.56'],
    ['8000.00', '¥8,000.00'],
    ['8000', '¥8,000.00'],
    ['0.5', '¥0.50'],
    ['-1234567.8', '-¥1,234,567.80'],
    ['12345678901234567.89', '¥12,345,678,901,234,567.89'],
    ['007.10', '¥7.10'],
  ])('%s → %s', (value, shown) => {
    expect(formatMoney(value, 'zh-CN')).toBe(shown)
    expect(formatMoney(value, 'en')).toBe(shown)
  })

  it('shows a dash for nothing and text as it is', () => {
    expect(formatMoney(null)).toBe('—')
    expect(formatMoney('')).toBe('—')
    expect(formatMoney('n/a')).toBe('n/a')
  })

  it('never goes through a float (0.1 + 0.2 stays exact)', () => {
    expect(formatMoney('0.30')).toBe('¥0.30')
    expect(formatMoney('9007199254740993.01')).toBe('¥9,007,199,254,740,993.01')
  })
})

describe('percentages', () => {
  it('round half up on the decimal string', () => {
    expect(roundDecimalString('12.005', 2)).toBe('12.01')
    expect(roundDecimalString('12.004999', 2)).toBe('12.00')
    expect(roundDecimalString('9.995', 2)).toBe('10.00')
    expect(roundDecimalString('-0.001', 2)).toBe('0.00')
    expect(formatPercent('12')).toBe('12.00%')
    expect(formatPercent('12.00')).toBe('12.00%')
  })

  it('turn a fraction into a percentage', () => {
    expect(formatFractionAsPercent('0.120001146283')).toBe('12.00%')
    expect(formatFractionAsPercent('0.0725')).toBe('7.25%')
    expect(formatFractionAsPercent('1.5')).toBe('150.00%')
  })
})

describe('dates', () => {
  it('a business date per language, without a time-zone shift', () => {
    expect(formatDate('2026-11-25', 'zh-CN')).toBe('2026年11月25日')
    expect(formatDate('2026-11-25', 'en')).toBe('25 Nov 2026')
    expect(formatDate(null)).toBe('—')
  })

  it('an instant in the institution’s time zone', () => {
    expect(formatDateTime('2026-11-25T16:30:00Z', 'zh-CN', 'Asia/Shanghai')).toBe('2026年11月26日 00:30:00')
    expect(formatDateTime('2026-11-25T16:30:00Z', 'en', 'Asia/Shanghai')).toBe('26 Nov 2026, 00:30:00')
    expect(formatDateTime('2026-12-02T04:49:37Z', 'en', 'Asia/Shanghai')).toBe('2 Dec 2026, 12:49:37')
    expect(formatDateTime(null)).toBe('—')
    expect(formatDateTime('not a time')).toBe('not a time')
  })

  it('writes the day of a date-time as the date itself is written (one style per language)', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      expect(formatDateTime('2026-11-25T02:00:00Z', locale, 'Asia/Shanghai').startsWith(formatDate('2026-11-25', locale))).toBe(true)
    }
  })

  it('midnight is 00, never 24', () => {
    expect(formatDateTime('2026-11-25T16:00:00Z', 'en', 'Asia/Shanghai')).toBe('26 Nov 2026, 00:00:00')
  })
})
