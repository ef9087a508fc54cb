// The staff console's side menu: each entry needs the same permission as its route.
import { staffPages } from '@/router'

interface MenuItem {
  name: string
  path: string
  title: string
}
interface MenuGroup {
  key: string
  items: MenuItem[]
}

const GROUPS: { key: string; routes: string[] }[] = [
  { key: 'nav.groupBorrowers', routes: ['staff-borrowers', 'staff-guarantors', 'staff-borrower-new', 'staff-profile-changes', 'staff-groups'] },
  { key: 'nav.groupLoans', routes: ['staff-applications', 'staff-application-new', 'staff-review-queue', 'staff-group-applications', 'staff-loans', 'staff-loan-desk', 'staff-loan-changes', 'staff-reconciliation', 'staff-sheet-handover'] },
  {
    key: 'nav.groupAdmin',
    routes: ['staff-institutions', 'staff-branches', 'staff-staff', 'staff-roles', 'staff-login-history', 'staff-audit-log', 'staff-outbox', 'staff-cob'],
  },
  { key: 'nav.groupProducts', routes: ['staff-products', 'staff-lpr', 'staff-contract-templates'] },
  {
    key: 'nav.groupLedger',
    routes: ['staff-ledger-accounts', 'staff-ledger-journal', 'staff-ledger-entry-new', 'staff-ledger-trial-balance', 'staff-ledger-statement'],
  },
  { key: 'nav.groupCollections', routes: ['staff-collection-mine', 'staff-collections'] },
  { key: 'nav.groupRisk', routes: ['staff-risk-warnings', 'staff-risk-rules', 'staff-risk-models', 'staff-risk-early-defaults', 'staff-risk-blacklist', 'staff-risk-fraud', 'staff-risk-fraud-model', 'staff-risk-bureau'] },
  { key: 'nav.groupTools', routes: ['staff-calculator', 'staff-calendar'] },
]

/** The menu groups the holder of `permissions` may open (empty groups left out). */
export function menuFor(permissions: ReadonlySet<string>): MenuGroup[] {
  return GROUPS.map((g) => ({
    key: g.key,
    items: g.routes
      .map((name) => staffPages.find((r) => r.name === name)!)
      .filter((r) => !r.meta?.permission || r.meta.permission.split('|').some((p) => permissions.has(p)))
      .map((r) => ({ name: String(r.name).replace(/^staff-/, ''), path: `/staff/${r.path}`, title: String(r.meta?.title) })),
  })).filter((g) => g.items.length > 0)
}
