import { describe, expect, it } from 'vitest'
import { mountWithApp } from '@/test/mount'
import ContractFigures from './components/ContractFigures.vue'
import type { Contract } from './contracts'

const rows = [1, 2, 3].map((n) => ({ number: n, due_date: `2027-0${n}-15`, principal: '3300.00', interest: '50.00', fees: '0.00', total: '3350.00', balance_after: `${(3 - n) * 3300}.00` }))
const contract = {
  id: 1, application_id: 2, number: 'DEMO-20261203-000001-HT', status: 'ready', template_code: 'loan', template_number: 1,
  pdf_sha256: 'a'.repeat(64), pdf_size: 1, docx_sha256: 'b'.repeat(64), signed_pdf_sha256: null, created_at: '2026-12-03T02:00:00Z', signature: null,
  terms: {
    amount: '9900.00', annual_rate_percent: '7', apr_percent: '7.23', monthly_rate_percent: '0.5833', daily_rate_percent: '0.01944', term: 3,
    period_unit: 'month', repayment_method: 'equal_installment', start_date: '2026-12-15', maturity_date: '2027-03-15', installments: rows,
    totals: { interest: '150.00', fees: '0.00', total_payable: '10050.00' },
    fees: [{ name: '担保费', payee: 'guarantor', payee_name: '担保机构', per_charge: '5.00', charges: 3, total: '15.00' }],
  },
} as unknown as Contract

describe('the contract figures', () => {
  it('state the APR first and in the largest figure, then the monthly and daily rates', () => {
    const text = mountWithApp(ContractFigures, { props: { contract } }).text()
    expect(text.indexOf('7.23%')).toBeGreaterThanOrEqual(0)
    expect(text.indexOf('7.23%')).toBeLessThan(text.indexOf('0.5833%'))
    expect(text.indexOf('7.23%')).toBeLessThan(text.indexOf('0.01944%'))
  })

  it('show every schedule row in a labelled region that scrolls, and each fee with its payee', () => {
    const w = mountWithApp(ContractFigures, { props: { contract } })
    const region = w.get('[data-testid="contract-schedule"]')
    expect(region.attributes('role')).toBe('region')
    expect(region.findAll('tbody tr')).toHaveLength(3)
    expect(w.text()).toContain('担保费（收取方：担保机构）')
  })
})
