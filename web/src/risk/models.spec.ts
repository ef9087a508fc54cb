import { describe, expect, it } from 'vitest'
import { bandLabel, calibrationOf, mayDecide, metric, proposable, psiLevel, rocOf, type Promotion } from './models'

const promotion = (over: Partial<Promotion> = {}): Promotion => ({
  id: 1, model: 'm', number: 2, target: 'champion', status: 'pending', reason: 'r', proposed_at: '2026-12-03T00:00:00Z',
  proposed_by_user_id: 7, decided_at: null, decided_by_user_id: null, decision_reason: null, replaced: null, mine: false, ...over,
})

describe('the model registry in the web app', () => {
  it('reads a PSI as stable, watch or shifted', () => {
    expect([psiLevel(0.02), psiLevel(0.1), psiLevel(0.25), psiLevel(0.4), psiLevel(null)]).toEqual(['stable', 'watch', 'watch', 'shifted', null])
  })

  it('lets only a second officer with the approval permission decide a pending proposal', () => {
    expect(mayDecide(promotion(), true)).toBe(true)
    expect(mayDecide(promotion({ mine: true }), true)).toBe(false)
    expect(mayDecide(promotion(), false)).toBe(false)
    expect(mayDecide(promotion({ status: 'approved' }), true)).toBe(false)
  })

  it('offers the roles a status may be proposed for', () => {
    expect(proposable('draft')).toEqual(['champion', 'challenger'])
    expect(proposable('challenger')).toEqual(['champion'])
    expect(proposable('retired')).toEqual([])
    expect(proposable('champion')).toEqual([])
  })

  it('reads the charts of a report and leaves out what it lacks', () => {
    expect(rocOf({ roc: { fpr: [0, 0.5, 1], tpr: [0, 0.8, 1] } })).toEqual([[0, 0], [0.5, 0.8], [1, 1]])
    expect(rocOf({ roc: { fpr: [0, 1], tpr: [0] } })).toEqual([])
    expect(rocOf(null)).toEqual([])
    expect(calibrationOf({ calibration: [{ mean_pd: 0.1, observed: 0.12 }, { bin: 2 }] })).toEqual([{ predicted: 0.1, observed: 0.12 }])
    expect(metric(undefined)).toBe('—')
    expect(metric(0.75219)).toBe('0.752')
    expect([bandLabel(null, 540), bandLabel(540, 600), bandLabel(720, null)]).toEqual(['< 540', '540–600', '≥ 720'])
  })
})
