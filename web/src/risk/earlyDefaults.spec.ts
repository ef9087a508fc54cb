import { describe, expect, it } from 'vitest'
import { bandName, percent } from './earlyDefaults'

describe('percent', () => {
  it('shows one decimal, and a dash when nothing is counted', () => {
    expect(percent(0.125)).toBe('12.5%')
    expect(percent(1 / 3)).toBe('33.3%')
    expect(percent(0)).toBe('0.0%')
    expect(percent(null)).toBe('—')
  })
})

describe('bandName', () => {
  const t = (key: string, named?: Record<string, unknown>) => (named ? `${key}:${String(named.band)}` : key)
  it('names a grade, no grade and every band', () => {
    expect(bandName(t, 'B')).toBe('earlyDefaults.band:B')
    expect(bandName(t, '-')).toBe('earlyDefaults.noGrade')
    expect(bandName(t, null)).toBe('earlyDefaults.allBands')
  })
})
