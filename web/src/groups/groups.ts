// Group lending (小组联保) in the app: the rules the views share, kept out of them.
import type { components } from '@/api/client'

export type Group = components['schemas']['GroupRead']
export type GroupSummary = components['schemas']['GroupSummary']
export type GroupApplication = components['schemas']['GroupApplicationRead']
export type GroupApplicationSummary = components['schemas']['GroupApplicationSummary']
export type MyGroup = components['schemas']['MyGroupRead']
export type Consent = GroupApplication['members'][number]['consent']
type Tag = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export const MIN_MEMBERS = 3
export const MAX_MEMBERS = 10

/** The tag colour of a member's consent. */
export function consentTag(consent: Consent): Tag {
  return ({ pending: 'warning', consented: 'success', refused: 'danger', removed: 'info' } as const)[consent]
}

/** The tag colour of a group's or a group application's status. */
export function groupStatusTag(status: string): Tag {
  return ({ active: 'success', forming: 'warning', dissolved: 'info', awaiting_consent: 'warning', member_refused: 'danger', submitted: 'success', held: 'danger', cancelled: 'info' } as Record<string, Tag>)[status] ?? 'info'
}

/** Whether the officer may still act on a group application (remove a member, cancel; held: cancel). */
export function isOpen(status: GroupApplication['status']): boolean {
  return status === 'awaiting_consent' || status === 'member_refused' || status === 'held'
}

/** Whether removing one more member keeps the group application at its minimum size. */
export function canRemove(ga: Pick<GroupApplication, 'status' | 'members'>): boolean {
  return isOpen(ga.status) && ga.members.filter((m) => m.consent !== 'removed').length > MIN_MEMBERS
}

/** Whether a member may still answer (consent or refuse) their group application. */
export function canAnswer(g: Pick<MyGroup, 'status' | 'my_consent'>): boolean {
  return (g.status === 'awaiting_consent' || g.status === 'member_refused') && g.my_consent === 'pending'
}

/** Sum of decimal money strings, exactly (minor units as integers). */
export function sumAmounts(amounts: string[]): string {
  let cents = 0n
  for (const a of amounts) {
    const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(a.trim())
    if (!m) continue
    cents += BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'))
  }
  const s = cents.toString().padStart(3, '0')
  return `${s.slice(0, -2)}.${s.slice(-2)}`
}
