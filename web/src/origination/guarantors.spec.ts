import { describe, expect, it } from 'vitest'
import { applicationTakesGuarantors, guaranteeLink, loanTakesGuarantors, mayEditGuarantors, sortGuarantees, type Guarantee } from './guarantors'

const g = (over: Partial<Guarantee>): Guarantee => ({
  guarantor_id: 1,
  status: 'active',
  relation: 'friend',
  kind: 'joint_liability',
  amount: null,
  created_at: '2026-11-01T02:00:00Z',
  application_id: 10,
  application_number: 'MC-20261101-000001',
  application_status: 'approved',
  borrower_id: 5,
  borrower_name: '王小明',
  loan_id: null,
  loan_number: null,
  loan_status: null,
  ...over,
})

describe('who may add guarantors, and where', () => {
  it('an officer or any reviewer level; a collector or finance may not', () => {
    expect(mayEditGuarantors((p) => p === 'loan.apply')).toBe(true)
    expect(mayEditGuarantors((p) => p === 'loan.approve.level3')).toBe(true)
    expect(mayEditGuarantors((p) => ['loan.read', 'collection.act', 'loan.disburse'].includes(p))).toBe(false)
  })
  it('an application before its decision; a loan only while active', () => {
    expect(applicationTakesGuarantors('submitted')).toBe(true)
    expect(applicationTakesGuarantors('approved')).toBe(false)
    expect(loanTakesGuarantors('active')).toBe(true)
    for (const s of ['pending_disbursement', 'closed', 'overpaid', 'written_off', 'cancelled']) expect(loanTakesGuarantors(s)).toBe(false)
  })
})

describe('a guarantee found by the search', () => {
  it('links to its loan once opened, else to its application', () => {
    expect(guaranteeLink(g({ loan_id: 7, loan_number: 'L-7', loan_status: 'active' }))).toEqual({ name: 'staff-loan', params: { id: '7' } })
    expect(guaranteeLink(g({}))).toEqual({ name: 'staff-application', params: { id: '10' } })
  })
  it('lists what the person answers for now first, then newest first', () => {
    const released = g({ guarantor_id: 1, status: 'released', loan_id: 1, loan_status: 'active', created_at: '2026-11-20T00:00:00Z' })
    const pending = g({ guarantor_id: 2, created_at: '2026-11-21T00:00:00Z' })
    const older = g({ guarantor_id: 3, loan_id: 3, loan_status: 'active', created_at: '2026-10-01T00:00:00Z' })
    const newer = g({ guarantor_id: 4, loan_id: 4, loan_status: 'active', created_at: '2026-11-02T00:00:00Z' })
    expect(sortGuarantees([released, pending, older, newer]).map((x) => x.guarantor_id)).toEqual([4, 3, 2, 1])
  })
})
