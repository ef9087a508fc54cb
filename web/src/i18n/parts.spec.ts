// @vitest-environment node
// The catalogues' two parts (scripts/i18n-parts.ts): together exactly the catalogue, the borrower
// part holding what the borrower app's source names and little of the staff console's.
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { borrowerSources, catalogPart, namedKeys } from '../../scripts/i18n-parts'
import zhCN from './zh-CN'

type Tree = { [key: string]: string | Tree }

function flatten(obj: Tree, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : flatten(v, `${prefix}${k}.`)))
}

const WEB = resolve(__dirname, '../..')
const sources = borrowerSources(WEB).map((f) => f.slice(WEB.length + 1).replaceAll('\\', '/'))
const named = namedKeys(borrowerSources(WEB))
const borrower = flatten(catalogPart(zhCN as Tree, named, 'borrower'))
const staff = flatten(catalogPart(zhCN as Tree, named, 'staff'))

describe('catalogue parts', () => {
  it('follow the borrower app from main.ts and stop at the staff console', () => {
    for (const f of ['src/main.ts', 'src/App.vue', 'src/shells/BorrowerShell.vue', 'src/identity/views/LoginView.vue',
      'src/servicing/views/MyLoanView.vue', 'src/lending/components/ScheduleChart.vue']) expect(sources).toContain(f)
    expect(sources.filter((f) => /StaffShell|StaffLoginView|\/audit\/|\/ledger\//.test(f))).toEqual([])
  })

  it('read keys and key prefixes from strings, template literals and concatenations', () => {
    expect(named).toContain('login.title')
    expect(named).toContain('loan.status') // `loan.status.${...}`
    expect(named).toContain('validation') // `validation.${...}`
  })

  it('split the catalogue without losing or repeating a key', () => {
    const whole = flatten(zhCN as Tree)
    expect([...borrower, ...staff].sort()).toEqual([...whole].sort())
    expect(borrower.filter((k) => staff.includes(k))).toEqual([])
  })

  it('put what a borrower page names in the borrower part and the console in the other', () => {
    for (const k of ['app.name', 'nav.home', 'login.title', 'loan.my.title', 'calc.title', 'offline.notice']) {
      if (flatten(zhCN as Tree).includes(k)) expect(borrower).toContain(k)
    }
    expect(borrower.filter((k) => /^(auditAction|ledger|cob|riskModels|staffAdmin)\./.test(k))).toEqual([])
    // What makes it worth it: most of the catalogue is the console's.
    expect(borrower.length).toBeLessThan(staff.length)
  })
})
