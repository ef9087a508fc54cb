// Branch names and the ways a borrower comes to a branch (backend: parties/service/assignment.py).
import type { components } from '@/api/client'

type BranchNames = Pick<components['schemas']['BranchRead'], 'name' | 'name_en'>

/** How a borrower's branch was chosen (`BorrowerRead.branch_assignment`); null: no branch yet. */
export const ASSIGNMENTS = ['region', 'default', 'branch', 'staff'] as const
export type Assignment = (typeof ASSIGNMENTS)[number]

/** Where the institution sends online registrants (`InstitutionRead.online_branch_rule`). */
export const ONLINE_BRANCH_RULES = ['region', 'default', 'none'] as const
export type OnlineBranchRule = (typeof ONLINE_BRANCH_RULES)[number]

/** The name to show: the English name in English when there is one, else the Chinese name. */
export function branchLabel(branch: BranchNames | undefined | null, locale: string): string {
  if (!branch) return ''
  return locale === 'en' && branch.name_en ? branch.name_en : branch.name
}

/** i18n key for how a borrower was placed ("assignment.none" when they have no branch). */
export function assignmentKey(assignment: string | null | undefined): string {
  return ASSIGNMENTS.includes(assignment as Assignment) ? `assignment.${assignment}` : 'assignment.none'
}
