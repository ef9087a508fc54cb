import { describe, expect, it } from 'vitest'
import { actionBody, actionsFor, borrowerProgress, levelsOf, needsOverride, slaLeft, splitSteps, waited, type ReviewStep } from './approvals'

const step = (id: number, chain: number, level: number | null, action = 'approve'): ReviewStep => ({
  id, chain, level, action, user_id: 7, user_name: null, reason_code: null, override_reason: null, note: null, needed: null,
  counter_amount: null, counter_term: null, at: '2026-12-03T02:00:00Z',
})

describe('the review in levels', () => {
  it('offers the levels the caller holds', () => {
    const held = new Set(['loan.read', 'loan.approve.level2'])
    expect(levelsOf((p) => held.has(p))).toEqual([2])
    expect(levelsOf(() => false)).toEqual([])
  })

  it('offers four acts on a referral, two on a human review request, none otherwise', () => {
    expect(actionsFor({ status: 'referred', human_review: false })).toEqual(['approve', 'decline', 'request_documents', 'counter_offer'])
    expect(actionsFor({ status: 'human_review', human_review: true })).toEqual(['approve', 'decline'])
    expect(actionsFor({ status: 'approved', human_review: false })).toEqual([])
  })

  it('sends only the fields of the act, the level and version seen, and the override reason where needed', () => {
    const review = { level: 2, version: 5, offer: null, override_needed: ['approve', 'counter_offer'] as ('approve' | 'counter_offer')[] }
    expect(needsOverride(review, 'approve')).toBe(true)
    expect(needsOverride(review, 'decline')).toBe(false)
    expect(actionBody(review, { action: 'approve', override_reason: 'data_error', reason_code: 'high_debt', note: '  ok ' }))
      .toEqual({ action: 'approve', level: 2, version: 5, override_reason: 'data_error', note: 'ok' })
    expect(actionBody(review, { action: 'decline', reason_code: 'high_debt', override_reason: 'data_error' }))
      .toEqual({ action: 'decline', level: 2, version: 5, reason_code: 'high_debt' })
    expect(actionBody(review, { action: 'counter_offer', amount: '5000.00', term: null, override_reason: 'other' }))
      .toEqual({ action: 'counter_offer', level: 2, version: 5, amount: '5000.00', override_reason: 'other' })
    expect(actionBody(review, { action: 'request_documents', needed: ['income_proof'] }))
      .toEqual({ action: 'request_documents', level: 2, version: 5, needed: ['income_proof'] })
  })

  it('asks an override reason for a counter-offer still above the product offer, not for one down to it', () => {
    const review = { level: 1, version: 3, offer: '15000.00', override_needed: ['approve'] as 'approve'[] }
    expect(needsOverride(review, 'counter_offer', '16000.00')).toBe(true)
    expect(needsOverride(review, 'counter_offer', '15000.01')).toBe(true)
    expect(needsOverride(review, 'counter_offer', '15000')).toBe(false)
    expect(needsOverride(review, 'counter_offer', '9000.50')).toBe(false)
    expect(needsOverride(review, 'counter_offer', '')).toBe(true) // the amount asked, on a shorter term
    expect(needsOverride({ ...review, offer: null }, 'counter_offer', '')).toBe(false)
    expect(actionBody(review, { action: 'counter_offer', amount: '16000.00', override_reason: 'collateral_offered' }))
      .toEqual({ action: 'counter_offer', level: 1, version: 3, amount: '16000.00', override_reason: 'collateral_offered' })
    expect(actionBody(review, { action: 'counter_offer', amount: '15000.00', override_reason: 'collateral_offered' }))
      .toEqual({ action: 'counter_offer', level: 1, version: 3, amount: '15000.00' })
  })

  it('tells the time left before the SLA, and past it', () => {
    const now = new Date('2026-12-03T02:00:00Z')
    expect(slaLeft('2026-12-03T05:30:00Z', now)).toEqual({ overdue: false, hours: 3, minutes: 30 })
    expect(slaLeft('2026-12-02T23:45:00Z', now)).toEqual({ overdue: true, hours: 2, minutes: 15 })
    expect(waited(25 * 3600 + 59)).toEqual({ hours: 25, minutes: 0 })
  })

  it('splits the chain in progress from earlier chains and notes', () => {
    const split = splitSteps({ chain: 2, steps: [step(1, 1, 1, 'request_documents'), step(2, 2, null, 'note'), step(3, 2, 1), step(4, 2, 2)] })
    expect(split.chain.map((s) => s.id)).toEqual([3, 4])
    expect(split.earlier.map((s) => s.id)).toEqual([1])
    expect(split.notes.map((s) => s.id)).toEqual([2])
  })

  it('tells the borrower the level and the count of levels only while a review is in progress', () => {
    expect(borrowerProgress({ status: 'referred', review_level: 2, levels_required: 3 })).toEqual({ level: 2, of: 3 })
    expect(borrowerProgress({ status: 'human_review', review_level: 1, levels_required: 1 })).toEqual({ level: 1, of: 1 })
    expect(borrowerProgress({ status: 'approved', review_level: null, levels_required: 3 })).toBeNull()
  })
})
