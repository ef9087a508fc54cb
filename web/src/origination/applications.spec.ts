import { describe, expect, it } from 'vitest'
import { byStage, canWithdraw, deviceId, outcomeTag, statusTag, type RuleResult } from './applications'

const r = (submission: number, stage: string, code: string, outcome = 'pass'): RuleResult => ({ submission, stage, code, outcome, message: `risk.rule.${code}`, params: {} })

describe('applications', () => {
  it('groups the last submission’s results by stage in the order the review runs', () => {
    const groups = byStage([r(1, 'fraud', 'old'), r(2, 'fraud', 'velocity'), r(2, 'completeness', 'docs', 'missing'), r(2, 'custom', 'x')])
    expect(groups.map((g) => [g.stage, g.results.map((x) => x.code)])).toEqual([['completeness', ['docs']], ['fraud', ['velocity']], ['custom', ['x']]])
    expect(byStage([])).toEqual([])
  })

  it('shows decisions and outcomes in their colours, and withdrawal only before a decision', () => {
    expect([statusTag('approved'), statusTag('declined'), statusTag('draft')]).toEqual(['success', 'danger', 'info'])
    expect([outcomeTag('fail'), outcomeTag('flag'), outcomeTag('pass')]).toEqual(['danger', 'warning', 'success'])
    expect(['draft', 'submitted', 'returned', 'referred', 'approved', 'declined', 'withdrawn'].filter(canWithdraw)).toEqual(['draft', 'submitted', 'returned', 'referred'])
  })

  it('makes the device id once and keeps it', () => {
    const store = new Map<string, string>()
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) }
    const first = deviceId(storage)
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(deviceId(storage)).toBe(first)
    store.set('mc.device-id', 'bad id!')
    expect(deviceId(storage)).not.toBe('bad id!')
  })
})
