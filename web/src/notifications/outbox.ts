// The outbox monitor's rules, kept out of the view: which tabs, what a tab counts, which actions a
// message allows, how a status looks. A message's text is never sent to the console, so nothing
// here can show it.
import type { components } from '@/api/client'

export type OutboxMessage = components['schemas']['OutboxMessageRead']
export type OutboxSummary = components['schemas']['OutboxSummaryRead']
export type OutboxStatus = OutboxMessage['status']
export type Tab = 'all' | OutboxStatus
export type OutboxAction = 'retry' | 'cancel'

export const STATUSES: readonly OutboxStatus[] = ['pending', 'retrying', 'dead', 'delivered', 'cancelled']
export const TABS: readonly Tab[] = ['all', ...STATUSES]
/** The templates the system sends (docs/operations.md); the filter offers these. */
export const TEMPLATES = ['verification_code', 'already_registered', 'not_registered', 'registered_at_branch', 'account_locked'] as const

/** How many messages a tab holds ('all': every status), or undefined before the counts arrive. */
export function tabCount(summary: OutboxSummary | null, tab: Tab): number | undefined {
  if (!summary) return undefined
  return tab === 'all' ? STATUSES.reduce((sum, s) => sum + summary[s], 0) : summary[tab]
}

/**
 * What an operator may do to a message: send a failed one again now (retrying: without waiting out the
 * back-off; dead: one more attempt), or make sure one not yet delivered is never sent. Delivered and
 * cancelled messages are final (the API refuses both actions).
 */
export function actionsFor(status: OutboxStatus, canManage: boolean): OutboxAction[] {
  if (!canManage) return []
  const out: OutboxAction[] = []
  if (status === 'retrying' || status === 'dead') out.push('retry')
  if (status === 'pending' || status === 'retrying' || status === 'dead') out.push('cancel')
  return out
}

/** The Element Plus tag type of a status: failures stand out, finished ones recede. */
export function statusTag(status: OutboxStatus): 'primary' | 'warning' | 'danger' | 'success' | 'info' {
  return ({ pending: 'primary', retrying: 'warning', dead: 'danger', delivered: 'success', cancelled: 'info' } as const)[status]
}

/** The API's `status` filter for a tab (none for 'all'). */
export function statusFilter(tab: Tab): OutboxStatus | undefined {
  return tab === 'all' ? undefined : tab
}
