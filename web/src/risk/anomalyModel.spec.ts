import { describe, expect, it } from 'vitest'
import { bandLabel, bandShare, percent } from './anomalyModel'

describe('bandLabel', () => {
  it('names open and closed bands', () => {
    expect(bandLabel({ low: null, high: 0.3, count: 1 })).toBe('< 0.30')
    expect(bandLabel({ low: 0.45, high: 0.5, count: 1 })).toBe('0.45–0.50')
    expect(bandLabel({ low: 0.8, high: null, count: 1 })).toBe('≥ 0.80')
  })
})

describe('bandShare', () => {
  it('measures each band against the largest, and an empty sample as nothing', () => {
    const bands = [{ low: null, high: 0.3, count: 5 }, { low: 0.3, high: null, count: 20 }]
    expect(bandShare(bands, bands[0])).toBe(0.25)
    expect(bandShare(bands, bands[1])).toBe(1)
    expect(bandShare([{ low: null, high: null, count: 0 }], { low: null, high: null, count: 0 })).toBe(0)
  })
})

describe('percent', () => {
  it('shows one decimal', () => {
    expect(percent(0.02)).toBe('2.0%')
    expect(percent(37 / 224)).toBe('16.5%')
  })
})
