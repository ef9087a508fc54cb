import { describe, expect, it } from 'vitest'
import { menuFor } from './staffMenu'

const names = (permissions: string[]) => menuFor(new Set(permissions)).flatMap((g) => g.items.map((i) => i.name))

describe('the staff menu', () => {
  it('lists the holiday calendar for whoever may read it, beside the calculator', () => {
    expect(names(['calendar.read'])).toEqual(['calculator', 'calendar'])
    expect(names([])).toEqual(['calculator'])
    const tools = menuFor(new Set(['calendar.read'])).find((g) => g.key === 'nav.groupTools')!
    expect(tools.items.find((i) => i.name === 'calendar')).toMatchObject({ path: '/staff/calendar', title: 'nav.calendar' })
  })

  it('lists the books for whoever may read them, and the manual entry form only for whoever may post', () => {
    const ledger = (permissions: string[]) => menuFor(new Set(permissions)).find((g) => g.key === 'nav.groupLedger')?.items.map((i) => i.name)
    expect(ledger(['ledger.read'])).toEqual(['ledger-accounts', 'ledger-journal', 'ledger-trial-balance', 'ledger-statement'])
    expect(ledger(['ledger.read', 'ledger.post'])).toContain('ledger-entry-new')
    expect(ledger([])).toBeUndefined()
  })

  it('lists the rules, models and early defaults for whoever reads them, and the blacklist and bureau simulator for risk officers', () => {
    const risk = (permissions: string[]) => menuFor(new Set(permissions)).find((g) => g.key === 'nav.groupRisk')?.items.map((i) => i.name)
    expect(risk(['risk.read'])).toEqual(['risk-rules', 'risk-models', 'risk-early-defaults', 'risk-fraud-model'])
    expect(risk(['risk.read', 'risk.manage'])).toEqual(['risk-rules', 'risk-models', 'risk-early-defaults', 'risk-blacklist', 'risk-fraud-model', 'risk-bureau'])
    expect(risk([])).toBeUndefined()
  })

  it('lists the loans for whoever reads them, and the disbursement desk only for whoever disburses', () => {
    const loans = (permissions: string[]) => menuFor(new Set(permissions)).find((g) => g.key === 'nav.groupLoans')?.items.map((i) => i.name)
    expect(loans(['loan.read'])).toEqual(['applications', 'group-applications', 'loans'])
    expect(loans(['loan.read', 'loan.disburse'])).toEqual(['applications', 'group-applications', 'loans', 'loan-desk'])
  })

  it('lists my collection cases for collectors and the collections view for managers', () => {
    expect(names(['collection.act'])).toEqual(['collection-mine', 'calculator'])
    expect(names(['collection.act', 'collection.manage'])).toEqual(['collection-mine', 'collections', 'calculator'])
  })

  it('lists the queue of loan changes only for whoever checks them', () => {
    const loans = (permissions: string[]) => menuFor(new Set(permissions)).find((g) => g.key === 'nav.groupLoans')?.items.map((i) => i.name)
    expect(loans(['loan.read', 'repayment.record', 'loan.change.request'])).not.toContain('loan-changes')
    expect(loans(['loan.read', 'loan.change.approve'])).toEqual(['applications', 'group-applications', 'loans', 'loan-changes'])
  })
})
