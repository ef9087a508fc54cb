// Who may add or release guarantors, and where: an application's officer or reviewer, on the application
// before its decision and on its loan while the loan is active (the server's `EDITOR_PERMISSIONS`).
// And how the guarantor search shows one guarantee: where it links and how it reads.
import type { components } from '@/api/schema'

export type Guarantee = components['schemas']['GuaranteeRead']
export type GuarantorFound = components['schemas']['GuarantorFoundRead']

export const GUARANTOR_EDITORS = ['loan.apply', 'loan.approve.level1', 'loan.approve.level2', 'loan.approve.level3']
const DECIDED = ['approved', 'declined', 'withdrawn']

export function mayEditGuarantors(can: (permission: string) => boolean): boolean {
  return GUARANTOR_EDITORS.some((p) => can(p))
}

export function applicationTakesGuarantors(status: string): boolean {
  return !DECIDED.includes(status)
}

export function loanTakesGuarantors(status: string): boolean {
  return status === 'active'
}

/** The page a guarantee opens: its loan once there is one, else its application. */
export function guaranteeLink(g: Guarantee): { name: string; params: Record<string, string> } {
  return g.loan_id != null
    ? { name: 'staff-loan', params: { id: String(g.loan_id) } }
    : { name: 'staff-application', params: { id: String(g.application_id) } }
}

/** What the person answers for now (active guarantees of running loans) first, then the rest, newest first. */
export function sortGuarantees(rows: Guarantee[]): Guarantee[] {
  const rank = (g: Guarantee) => (g.status === 'active' && g.loan_status === 'active' ? 0 : g.status === 'active' ? 1 : 2)
  return [...rows].sort((a, b) => rank(a) - rank(b) || b.created_at.localeCompare(a.created_at))
}
