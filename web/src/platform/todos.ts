// The staff home's to-dos: what each code from `GET /me/todos` is called and where it is resolved.
//
// The API counts the work waiting for the caller by kind (platform/todo.py in the backend); this
// registry names each kind (an i18n key) and links it to the page, already filtered,
// where the work is done. A later domain adds its kinds with `registerTodo` (or a line below).
import type { RouteLocationRaw } from 'vue-router'

export interface TodoKind {
  /** i18n key of the label (the count is shown beside it). */
  label: string
  /** The page (with its filter) that resolves the work. */
  to: RouteLocationRaw
}

export interface TodoCount {
  code: string
  count: number
}

export interface TodoEntry extends TodoKind, TodoCount {}

const KINDS = new Map<string, TodoKind>([
  ['profile_changes_pending', { label: 'todos.profileChangesPending', to: { name: 'staff-profile-changes' } }],
  ['borrowers_unassigned', { label: 'todos.borrowersUnassigned', to: { name: 'staff-borrowers', query: { unassigned: '1' } } }],
  ['borrowers_locked', { label: 'todos.borrowersLocked', to: { name: 'staff-borrowers', query: { locked: '1' } } }],
  ['staff_locked', { label: 'todos.staffLocked', to: { name: 'staff-staff', query: { locked: '1' } } }],
  ['outbox_dead', { label: 'todos.outboxDead', to: { name: 'staff-outbox', query: { tab: 'dead' } } }],
  ['disbursements_waiting', { label: 'loan.todo.disbursementsWaiting', to: { name: 'staff-loan-desk' } }],
  ['loan_changes_waiting', { label: 'loan.todo.changesWaiting', to: { name: 'staff-loan-changes' } }],
  ['reconciliation_breaks', { label: 'payment.recon.todo', to: { name: 'staff-reconciliation' } }],
  ['collection_sheets_waiting_handover', { label: 'sheetHandover.todo', to: { name: 'staff-sheet-handover' } }],
  ['applications_level1', { label: 'approval.todos.level1', to: { name: 'staff-review-queue', query: { level: '1' } } }],
  ['applications_level2', { label: 'approval.todos.level2', to: { name: 'staff-review-queue', query: { level: '2' } } }],
  ['applications_level3', { label: 'approval.todos.level3', to: { name: 'staff-review-queue', query: { level: '3' } } }],
  ['applications_sla_breached', { label: 'approval.todos.slaBreached', to: { name: 'staff-review-queue' } }],
  ['group_applications_member_refused', { label: 'group.todoMemberRefused', to: { name: 'staff-group-applications', query: { status: 'member_refused' } } }],
  ['collection_promises_due', { label: 'collection.todoPromisesDue', to: { name: 'staff-collection-mine' } }],
  ['collection_cases_unassigned', { label: 'collection.todoUnassigned', to: { name: 'staff-collections', query: { unassigned: '1' } } }],
  ['contracts_waiting_signature', { label: 'contract.todoWaiting', to: { name: 'staff-applications', query: { status: 'approved' } } }],
  ['contract_templates_pending_approval', { label: 'contract.todoTemplatesPending', to: { name: 'staff-contract-templates' } }],
  ['risk_warnings_open', { label: 'warning.todoOpen', to: { name: 'staff-risk-warnings', query: { status: 'open' } } }],
  ['risk_warning_actions_waiting', { label: 'warning.todoWaiting', to: { name: 'staff-risk-warnings', query: { status: 'proposed' } } }],
])

/** Name a kind of to-do and link it to the page that resolves it (replaces an earlier entry). */
export function registerTodo(code: string, kind: TodoKind): void {
  KINDS.set(code, kind)
}

/** The registered kind of `code`, if any. */
export function todoKind(code: string): TodoKind | undefined {
  return KINDS.get(code)
}

/**
 * The to-dos to show: only kinds with work waiting (count > 0) that the app knows how to name and
 * link, in the order the API gave them. An unknown code is left out rather than shown unnamed.
 */
export function todoEntries(items: readonly TodoCount[]): TodoEntry[] {
  return items.flatMap((item) => {
    const kind = KINDS.get(item.code)
    return kind && item.count > 0 ? [{ ...kind, ...item }] : []
  })
}
