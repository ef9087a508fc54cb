import { describe, expect, it } from 'vitest'
import { actionsFor, detailParams, groupOf, statusTag } from '@/risk/warnings'

describe('early warning helpers', () => {
  it('offers a loan three actions and a portfolio its review', () => {
    expect(actionsFor({ loan_id: 7 })).toEqual(['freeze_limit', 'step_up_collection', 'ask_guarantor', 'call_early'])
    expect(actionsFor({ loan_id: null })).toEqual(['review_portfolio'])
  })
  it('reads a group warning\'s subject and none for a loan', () => {
    expect(groupOf({ subject: 'branch:3', loan_id: null })).toEqual({ kind: 'branch', key: '3' })
    expect(groupOf({ subject: 'loan:12', loan_id: 12 })).toBeNull()
  })
  it('colours statuses and keeps only plain details', () => {
    expect(statusTag('open')).toBe('danger')
    expect(statusTag('actioned')).toBe('success')
    expect(detailParams({ details: { drop: 80, share: '0.40', nested: { a: 1 } } })).toEqual({ drop: 80, share: '0.40' })
  })
})
