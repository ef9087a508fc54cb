import { describe, expect, it } from 'vitest'
import { percent } from './earlyDefaults'

describe('percent', () => {
  it('shows one decimal, and a dash when nothing is counted', () => {
    expect(percent(0.125)).toBe('12.5%')
    expect(percent(1 / 3)).toBe('33.3%')
    expect(percent(0)).toBe('0.0%')
    expect(percent(null)).toBe('—')
  })
})
